"""Read the small site config (`site.yaml`): title, published URL, repository URL for "view source"."""
from pathlib import Path

from .errors import SourceError

REQUIRED = ("title", "url", "repo_url")


def load_site_config(path: Path) -> dict:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourceError(str(path), 1, f"cannot read the site config ({error.strerror}); it needs "
                                        + ", ".join(REQUIRED)) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SourceError(str(path), (mark.line + 1) if mark else 1, f"invalid YAML: {error}") from None
    if not isinstance(data, dict):
        raise SourceError(str(path), 1, "expected a mapping with keys " + ", ".join(REQUIRED))
    missing = [key for key in REQUIRED if not data.get(key)]
    if missing:
        raise SourceError(str(path), 1, "missing key(s): " + ", ".join(missing))
    config = {key: str(data[key]) for key in REQUIRED}
    for key in ("url", "repo_url"):
        if not config[key].endswith("/"):
            config[key] += "/"
    return config
