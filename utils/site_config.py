"""The site config (`site.yaml`): the site's title, the URL it is published at, the repository URL for
"view source". Every key is optional.

Where it comes from, first match wins:

1. the file given with `--config` (it must exist);
2. `site.yaml` in the source folder, then in each folder above it, up to and including the repository
   root (the nearest folder holding `.git`), never above it;
3. outside any repository, only the source folder and its parent are looked at, so a stray `site.yaml`
   far above (say in /tmp) is never picked up;
4. none: the title is the source folder's name, and with no URL known no canonical or "view source"
   link is written.

A placeholder URL (example.org, github.com/example/...) is an error rather than something published:
leave the key out instead.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from .errors import SourceError

CONFIG_NAME = "site.yaml"
KEYS = ("title", "url", "repo_url")
URL_KEYS = ("url", "repo_url")
# RFC 2606/6761 names reserved for documentation: a URL on them can never be the real site.
PLACEHOLDER_HOSTS = ("example.org", "example.com", "example.net", "example")


@dataclass(frozen=True)
class SiteConfig:
    title: str
    source_root: Path   # "view source" URL = repo_url + the source file's path relative to this folder
    url: str = ""       # "" when unknown, else ends with "/"
    repo_url: str = ""  # "" when unknown, else ends with "/"


def _repository_root(folder: Path) -> Optional[Path]:
    """The nearest folder, `folder` itself included, holding `.git` (a folder, or a file in a worktree)."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def find_config(source: Path) -> Optional[Path]:
    """The `site.yaml` that applies to the source folder (see the module docstring), or None."""
    source = Path(source).resolve()
    root = _repository_root(source)
    if root is None:
        folders = [source, source.parent]
    else:
        folders = [source] + [p for p in source.parents if p == root or root in p.parents]
    for folder in folders:
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    return None


def load_site_config(source: Path, explicit: Optional[Path] = None) -> SiteConfig:
    """The config for `source`: from `explicit` when given, else from the file `find_config` finds, else
    the defaults (title = the source folder's name, no URLs)."""
    source = Path(source).resolve()
    path = Path(explicit) if explicit is not None else find_config(source)
    values = _read(path) if path is not None else {}
    root = _repository_root(source)
    if root is None:
        root = path.resolve().parent if path is not None else source.parent
    return SiteConfig(title=values.get("title", source.name), source_root=root,
                      url=values.get("url", ""), repo_url=values.get("repo_url", ""))


def _read(path: Path) -> dict:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) else "not UTF-8"
        raise SourceError(str(path), 1, f"cannot read the site config ({why})") from None
    try:
        # Composed rather than loaded, so that each error can name the line of its key.
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SourceError(str(path), mark.line + 1 if mark else 1, f"invalid YAML: {error}") from None
    if document is None:
        return {}
    if not isinstance(document, yaml.MappingNode):
        raise SourceError(str(path), document.start_mark.line + 1,
                          "expected a mapping with some of the keys " + ", ".join(KEYS))
    values = {}
    for key_node, value_node in document.value:
        key, line = key_node.value, key_node.start_mark.line + 1
        # An unknown key is most likely a typo, which would otherwise silently drop a link.
        if not isinstance(key_node, yaml.ScalarNode) or key not in KEYS:
            raise SourceError(str(path), line, f"unknown key {key!r} (allowed: {', '.join(KEYS)})")
        if key in values:
            raise SourceError(str(path), line, f"duplicate key {key!r}")
        if value_node.tag != "tag:yaml.org,2002:str" or not value_node.value.strip():
            raise SourceError(str(path), value_node.start_mark.line + 1,
                              f"{key} must be a non-empty string (leave the key out for the default)")
        value = value_node.value.strip()
        if key in URL_KEYS:
            value = _check_url(path, value_node.start_mark.line + 1, key, value)
        values[key] = value
    return values


def _check_url(path: Path, line: int, key: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(str(path), line, f"{key} must be an absolute http(s) URL, not {url!r}")
    if parts.query or parts.fragment:
        # Page paths are appended to it, so a query or fragment would end up in the middle of every link.
        raise SourceError(str(path), line, f"{key} must not have a query or fragment: {url!r}")
    host = parts.hostname.lower()
    if (host in PLACEHOLDER_HOSTS or host.endswith(tuple("." + h for h in PLACEHOLDER_HOSTS))
            or (host in ("github.com", "www.github.com") and "/example/" in parts.path + "/")):
        raise SourceError(str(path), line, f"placeholder URL: {url} (leave the key out instead)")
    return url if url.endswith("/") else url + "/"
