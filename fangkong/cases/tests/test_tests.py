"""Nucleic acid tests entered one by one, their effect on the status, and the lab import."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from fangkong.cases import samples, services
from fangkong.cases.access import access_test
from fangkong.cases.labimport import import_results
from fangkong.cases.models import NucleicAcidTest, ResultImport, Status
from fangkong.core.errors import FieldErrors
from fangkong.core.tabular import ImportFileError

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def sampled(city, who="zhangwei", status=Status.FEVER, at=None):
    user = city.users["community"]
    case = services.open_case(user, city.residents[who], status, "登记")
    test = samples.order_test(user, case)
    return samples.record_sample(user, test, sampled_at=at or timezone.now() - 2 * HOUR, place="江岸发热门诊", taker="李护士")


def test_taking_a_sample_makes_a_fever_patient_tested(city):
    test = sampled(city)
    case = test.case
    case.refresh_from_db()
    assert case.status == Status.TESTED and case.tested and case.first_sampled_at == test.sampled_at
    assert (test.sample_place, test.sample_taker, test.sampled_by) == ("江岸发热门诊", "李护士", city.users["community"])
    assert case.history.last().evidence == test.sample_number


def test_a_positive_result_makes_the_tested_patient_suspected(city):
    test = sampled(city)
    assert samples.record_result(city.users["community"], test, "positive", result_at=timezone.now() - HOUR, lab="疾控")
    test.case.refresh_from_db()
    assert test.case.status == Status.SUSPECTED and test.case.category == "suspected"
    assert test.case.history.last().test_id == test.pk


def test_two_negative_tests_a_day_apart_exclude_a_suspected_case_as_the_policy_says(city):
    user = city.users["community"]
    now = timezone.now()
    first = sampled(city, status=Status.SUSPECTED, at=now - 30 * HOUR)
    samples.record_result(user, first, "negative", result_at=now - 28 * HOUR)
    first.case.refresh_from_db()
    assert first.case.status == Status.SUSPECTED  # one negative is not enough
    second = samples.record_sample(user, samples.order_test(user, first.case), sampled_at=now - 5 * HOUR, place="门诊")
    samples.record_result(user, second, "negative", result_at=now - HOUR)
    second.case.refresh_from_db()
    assert second.case.status == Status.EXCLUDED
    assert "2 negative tests" in second.case.history.last().reason


def test_negatives_too_close_together_do_not_exclude(city):
    user = city.users["community"]
    now = timezone.now()
    first = sampled(city, status=Status.SUSPECTED, at=now - 10 * HOUR)
    samples.record_result(user, first, "negative", result_at=now - 9 * HOUR)
    second = samples.record_sample(user, samples.order_test(user, first.case), sampled_at=now - 4 * HOUR, place="门诊")
    samples.record_result(user, second, "negative", result_at=now - HOUR)
    second.case.refresh_from_db()
    assert second.case.status == Status.SUSPECTED


def test_a_result_is_never_overwritten_and_never_before_the_sample(city):
    user = city.users["community"]
    test = sampled(city)
    with pytest.raises(FieldErrors) as early:
        samples.record_result(user, test, "negative", result_at=test.sampled_at - HOUR)
    assert "result_at" in early.value.errors
    samples.record_result(user, test, "negative")
    assert samples.record_result(user, test, "negative") is False
    with pytest.raises(FieldErrors, match="already has a result"):
        samples.record_result(user, test, "positive")


def test_no_result_before_the_sample_is_taken_and_none_from_outside(city):
    user = city.users["community"]
    case = services.open_case(user, city.residents["zhangwei"], Status.FEVER, "发热")
    test = samples.order_test(user, case)
    with pytest.raises(FieldErrors, match="not been recorded as taken"):
        samples.record_result(user, test, "positive")
    with pytest.raises((PermissionDenied, Http404)):
        samples.record_sample(city.users["grid_b"], access_test(city.users["grid_b"], test.pk), place="x")


def lab_file(rows, name="结果.xlsx", header=("样本编号", "证件号码", "检测结果", "报告时间")):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def test_a_lab_file_enters_results_and_reports_every_bad_row(city):
    user = city.users["community"]
    good = sampled(city, "zhangwei")
    negative = sampled(city, "lina")
    swapped = sampled(city, "wangfang")
    time = timezone.localtime(timezone.now() - HOUR).strftime("%Y-%m-%d %H:%M")
    rows = [
        (good.sample_number, city.residents["zhangwei"].doc_number, "阳性", time),
        (negative.sample_number, city.residents["lina"].doc_number, "阴性", time),
        ("NOSUCH-1", city.residents["lina"].doc_number, "阴性", time),
        (swapped.sample_number, city.residents["lina"].doc_number, "阳性", time),  # a swapped tube
        ("X-2", city.residents["lina"].doc_number, "也许", "昨天"),
        (negative.sample_number, city.residents["lina"].doc_number, "阴性", time),  # the same sample twice
    ]
    result = import_results(lab_file(rows), filename="结果.xlsx", user=user)
    assert result.summary() == {"updated": 2, "unchanged": 0, "errors": 4}
    reasons = {(e.row, e.column): e.message for e in result.errors}
    assert "No sample with this number" in reasons[(4, "样本编号")]
    assert "not the one of the person sampled" in reasons[(5, "证件号码")]
    assert {(6, "检测结果"), (6, "报告时间")} <= reasons.keys()
    assert "already appears in row 3" in reasons[(7, "样本编号")]
    good.refresh_from_db()
    assert good.result == "positive" and good.case.status == Status.SUSPECTED
    batch = ResultImport.objects.get(pk=result.batch_id)
    report = load_workbook(io.BytesIO(bytes(batch.report))).active
    assert [c.value for c in report[1]] == ["行号", "列", "原因"] and report.max_row == 6

    again = import_results(lab_file(rows[:2]), filename="结果.xlsx", user=user)
    assert again.summary() == {"updated": 0, "unchanged": 2, "errors": 0}


def test_a_lab_file_in_csv_with_english_headers_and_a_missing_column(city):
    user = city.users["community"]
    test = sampled(city)
    csv = f"sample number,document number,result,time\n{test.sample_number},{city.residents['zhangwei'].doc_number},negative,2020-02-05 14:30\n"
    result = import_results(io.BytesIO(csv.encode()), filename="lab.csv", user=user)
    assert result.errors and "before the sample" in result.errors[0].message  # 2020 lies before the sample
    with pytest.raises(ImportFileError, match="报告时间"):
        import_results(io.BytesIO(b"sample number,document number,result\nA,B,C\n"), filename="lab.csv", user=user)


def test_samples_outside_the_importers_scope_are_not_found(city):
    test = sampled(city)
    row = (test.sample_number, city.residents["zhangwei"].doc_number, "阳性", "2030-01-01 10:00")
    result = import_results(lab_file([row]), filename="x.xlsx", user=city.users["other_community"])
    assert result.updated == 0 and "No sample with this number" in result.errors[0].message
    assert NucleicAcidTest.objects.get(pk=test.pk).result == ""
