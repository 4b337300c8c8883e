"""Settings of the gunicorn that bench/load.py starts: the deployed settings plus one bench-only page
(bench/load_urls.py), the baseline of `ratio_vs_hello_page=`. Never used outside the benchmark."""

from fangkong import settings as deployed

globals().update({name: value for name, value in vars(deployed).items() if name.isupper()})
ROOT_URLCONF = "load_urls"
