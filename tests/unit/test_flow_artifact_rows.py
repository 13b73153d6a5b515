"""The rows a flow run's table artifact lists (no Prefect: `flows.artifacts` builds them
from what the run returns; tests/e2e/test_flow_artifacts.py reads them back from Prefect)."""

from __future__ import annotations

from flows import artifacts


def test_an_inspection_run_lists_its_draw_tasks_and_each_notice_with_its_files() -> None:
    result = {
        "organisation": "LSN-SKHDT",
        "inspection": 3,
        "revision": 1,
        "period": "2024Q2",
        "selected": ["DKKD", "QLDTC"],
        "reason": None,
        "tasks": [{"unit": "DKKD", "task": 40}, {"unit": "QLDTC", "task": 41}],
        "conclusions": [
            {
                "task": 40,
                "unit": "DKKD",
                "number": "05/TB-SKHĐT",
                "html": "/out/TB-05.html",
                "docx": "/out/TB-05.docx",
                "fix_tasks": [77, 78],
            }
        ],
        "skipped": None,
    }
    rows = artifacts.inspection_rows(result)
    assert [(r["kind"], r["number"], r["unit"], r["file"]) for r in rows] == [
        ("Danh sách đơn vị được kiểm tra", "lượt chọn 3, lần 1", "DKKD, QLDTC", ""),
        ("Nhiệm vụ kiểm tra", "nhiệm vụ 40", "DKKD", ""),
        ("Nhiệm vụ kiểm tra", "nhiệm vụ 41", "QLDTC", ""),
        ("Thông báo kết luận kiểm tra", "05/TB-SKHĐT", "DKKD", "/out/TB-05.html"),
        ("Thông báo kết luận (DOCX)", "05/TB-SKHĐT", "DKKD", "/out/TB-05.docx"),
    ]
    assert "nhiệm vụ khắc phục: 77, 78" in rows[3]["subject"]
    assert "1 thông báo kết luận" in artifacts.inspection_description(result)
    skipped = {"organisation": "QNA-BQLKKT", "skipped": "2024-04-30 is not a working day"}
    assert [r["kind"] for r in artifacts.inspection_rows(skipped)] == [
        "Không phát hành văn bản nào"
    ]


def test_a_report_run_lists_its_snapshot_and_files_and_says_when_provisional() -> None:
    report = {
        "snapshot": 7,
        "number": "03/BC-SKHĐT",
        "hash": "ab" * 32,
        "organisation": {"code": "LSN-SKHDT"},
        "period": "2024Q3",
        "window": {"rule": "reporting"},
        "revision": 1,
        "provisional": True,
        "created": False,
        "totals": {
            "tasks": 9,
            "tasks_completed": 2,
            "tasks_overdue": 1,
            "dossiers_received": 12,
        },
    }
    rows = artifacts.report_rows(report, {"json": "/r/a.json", "html": "/r/a.html"})
    assert rows[0]["kind"] == "Báo cáo (đã lưu)" and rows[0]["number"] == "03/BC-SKHĐT"
    assert "(tạm tính)" in rows[0]["subject"]
    assert rows[0]["unit"] == "9 nhiệm vụ, 2 hoàn thành, 1 quá hạn; 12 hồ sơ"
    assert [(r["kind"], r["file"]) for r in rows[1:]] == [
        ("Tệp báo cáo (HTML)", "/r/a.html"),
        ("Tệp báo cáo (JSON)", "/r/a.json"),
    ]
    assert all(set(r) == set(artifacts.COLUMNS) for r in rows)
    assert "đã lưu, trả lại nguyên văn" in artifacts.report_description(report)


def test_an_apology_run_lists_its_letters_and_the_late_dossiers_it_could_not_write() -> None:
    result = {
        "letters": [
            {
                "number": "01/PXL-SKHĐT",
                "code": "LSN-240603-0001",
                "unit": "DKKD",
                "path": "/out/a.html",
                "docx": "/out/a.docx",
            }
        ],
        "refused": [
            {"dossier": 9, "code": "LSN-240603-0002", "unit": "QLDTC", "problem": "no reason"}
        ],
        "escalations": [],
        "reminders": [],
    }
    rows = artifacts.apology_rows(result)
    assert [(r["kind"], r["number"], r["subject"], r["unit"]) for r in rows] == [
        ("Phiếu xin lỗi và hẹn lại ngày trả kết quả", "01/PXL-SKHĐT", "LSN-240603-0001", "DKKD"),
        ("Phiếu xin lỗi (DOCX)", "01/PXL-SKHĐT", "LSN-240603-0001", ""),
        (
            "Chưa phát hành phiếu xin lỗi: đơn vị chưa khai lý do chậm",
            "",
            "LSN-240603-0002",
            "QLDTC",
        ),
    ]


def test_a_run_that_issued_thousands_shows_the_first_and_says_how_many_more() -> None:
    letters = [
        {"number": f"{n:02d}/PXL-SKHĐT", "code": f"LSN-{n}", "unit": "DKKD", "path": f"/o/{n}"}
        for n in range(1, 2001)
    ]
    rows = artifacts.apology_rows({"letters": letters, "escalations": [], "reminders": []})
    shown = artifacts.capped(rows)
    assert len(rows) == 2000 and len(shown) == artifacts.MAX_ROWS
    assert shown[:-1] == rows[: artifacts.MAX_ROWS - 1]
    assert shown[-1]["kind"] == f"… và {2000 - artifacts.MAX_ROWS + 1} dòng khác"
    assert artifacts.capped(rows[:10]) == rows[:10]
