"""Every UI string of the code is translated in both catalogs (a string missing from the Chinese catalog shows
in English on a Chinese page)."""

from fangkong.core.catalog_check import _python_msgids, _template_msgids, missing_translations


def test_every_string_of_the_code_has_a_chinese_and_an_english_translation():
    missing = missing_translations()
    assert missing == {"zh_Hans": [], "en": []}, missing


def test_the_check_finds_strings_of_every_kind(tmp_path):
    python = tmp_path / "forms.py"
    python.write_text('_l = gettext_lazy\nlabel = _l("A label")\nx = pgettext("menu", "Open")\ny = ngettext("one", "many", 2)\n')
    assert _python_msgids(python) == {("", "A label"), ("menu", "Open"), ("", "one")}
    template = tmp_path / "page.html"
    template.write_text('{% load i18n %}{% translate "Home" %}{% blocktranslate %}Error {{ status }}{% endblocktranslate %}')
    assert _template_msgids(template) == {("", "Home"), ("", "Error %(status)s")}
