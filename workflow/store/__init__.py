"""The store layer: tables, engine and transactions, migrations, repositories."""
