"""What planflow's accounts stand on, apart from the database: password hashing and the
password policy (`passwords`), second-factor codes (`totp`), random secrets and how they
are kept and compared (`secret`). Pure functions, no I/O beyond reading the package's list
of common passwords once."""
