"""Vietnamese schedule words as plan schedules (`plans import`, issue 18): what agencies write,
typed or OCR'd without diacritics; every guess says so in a comment, words not understood
are marked and fall back to `continuous`."""

from __future__ import annotations

import datetime as dt

import pytest

from workflow.definitions.plan_import.schedules import month_ends, read_schedule

D = dt.date


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("Thường xuyên", "continuous"),
        ("Thuong xuyen", "continuous"),  # OCR'd: no diacritics
        ("Trong năm 2023", {"within_year": 2023}),
        ("Trong nam 2023", {"within_year": 2023}),
        ("Trong nim\n2023", {"within_year": 2023}),  # as the scan of the PAR/SIPAS plan reads
        ("Năm 2024", {"within_year": 2024}),
        ("Quý II/2024", {"by": D(2024, 6, 30)}),
        ("Quý 4 năm 2023", {"by": D(2023, 12, 31)}),
        ("Trước 30/6/2024", {"by": D(2024, 6, 30)}),
        ("Trước ngày 15/12/2023", {"by": D(2023, 12, 15)}),
        ("30-6-2024", {"by": D(2024, 6, 30)}),
        ("Tháng 3/2024", {"by": D(2024, 3, 31)}),
        ("Hằng quý", {"periodic": "quarterly"}),
        ("6 tháng/lần", {"periodic": "half_yearly"}),
        ("Hằng năm", {"periodic": "yearly"}),
        ("Giai đoạn 2021-2025", {"by": D(2025, 12, 31)}),
    ],
)
def test_schedule_words_read_as_a_schedule(words: str, value: object) -> None:
    assert read_schedule(words, 2024).value == value


@pytest.mark.parametrize(
    ("words", "value", "said"),
    [
        # No year written: the plan's year, said in the comment.
        ("6 tháng đầu năm", {"by": D(2024, 6, 30)}, "năm 2024 theo kỳ kế hoạch"),
        ("30/6", {"by": D(2024, 6, 30)}, "năm 2024 theo kỳ kế hoạch"),
        ("Trước 30/6", {"by": D(2024, 6, 30)}, "năm 2024 theo kỳ kế hoạch"),
        # No periodic form is monthly: a named schedule of month ends, declared by the plan.
        ("Hằng tháng", {"per": "hang-thang"}, "mỗi tháng một nhiệm vụ, hạn là ngày cuối tháng"),
        ("Hàng tháng", {"per": "hang-thang"}, "lịch «hang-thang» khai báo trong schedules"),
        ("Định kỳ", {"periodic": "quarterly"}, "không ghi chu kỳ; tạm ghi hằng quý"),
        ("Theo kế hoạch", "within_year", "không ghi ngày; tạm lấy hạn cuối năm"),
        ("Quý II/2024", {"by": D(2024, 6, 30)}, "hạn là ngày cuối quý 2"),
        (
            "Báo cáo 6 tháng đầu năm gửi trước ngày 10/7/2024. Báo cáo năm gửi trước ngày "
            "10/01/2025.",
            {"periodic": "half_yearly"},
            "báo cáo 6 tháng và báo cáo năm",
        ),
    ],
)
def test_a_guess_is_commented(words: str, value: object, said: str) -> None:
    guess = read_schedule(words, 2024)
    assert guess.value == value
    assert guess.comment is not None and guess.comment.startswith("ĐOÁN: ")
    assert said in guess.comment


@pytest.mark.parametrize("words", ["Thường xuyên", "Trong năm 2023", "Trước ngày 15/12/2023"])
def test_words_that_say_it_exactly_need_no_comment(words: str) -> None:
    assert read_schedule(words, 2023).comment is None


@pytest.mark.parametrize("words", ["lúc nào thuận tiện", "31/2/2024"])
def test_words_not_understood_are_marked_and_fall_back(words: str) -> None:
    guess = read_schedule(words, 2024)
    assert guess.value == "continuous" and not guess.understood
    assert guess.comment is not None and guess.comment.startswith("KHÔNG HIỂU: ")
    assert f"«{words}»" in guess.comment  # the person sees the words the file could not read


def test_an_empty_cell_is_a_guess_too() -> None:
    guess = read_schedule(None, 2024)
    assert guess.value == "continuous" and not guess.understood
    assert guess.comment == "ĐOÁN: kế hoạch không ghi thời gian; tạm ghi thường xuyên (continuous)"


def test_the_years_named_give_the_plan_its_period() -> None:
    assert read_schedule("Giai đoạn 2021-2025").years == (2021, 2025)
    assert read_schedule("Quý II/2024").years == (2024,)
    assert read_schedule("Thường xuyên").years == ()
    # Without the plan's year, a date without its year cannot be read.
    assert read_schedule("Trước 30/6").understood is False


def test_month_ends_cover_every_month_of_the_plan() -> None:
    ends = month_ends(2024, 2025)
    assert len(ends) == 24 and ends[0] == D(2024, 1, 31) and ends[1] == D(2024, 2, 29)
    assert ends[-1] == D(2025, 12, 31)
