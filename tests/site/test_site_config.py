"""Where the site config is found, what it defaults to, and which values it refuses."""
from pathlib import Path

import pytest

from utils.errors import SourceError
from utils.site_config import SiteConfig, find_config, load_site_config


def make_source(base: Path, rel: str = "project/src/pkg", git: str = "") -> Path:
    """A source folder under base; with `git`, that folder (relative to base) is made a repository root."""
    source = base / rel
    source.mkdir(parents=True)
    if git:
        (base / git / ".git").mkdir()
    return source


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def error_of(source: Path, explicit: Path = None) -> SourceError:
    with pytest.raises(SourceError) as caught:
        load_site_config(source, explicit)
    return caught.value


def test_config_in_the_source_folder_is_used(tmp_path):
    source = make_source(tmp_path)
    config = write(source / "site.yaml", "title: Mine\nurl: https://docs.mine.dev/\n")
    assert find_config(source) == config.resolve()
    assert load_site_config(source).title == "Mine"
    assert load_site_config(source).url == "https://docs.mine.dev/"


def test_config_at_the_repository_root_two_levels_up_is_found(tmp_path):
    source = make_source(tmp_path, git="project")
    config = write(tmp_path / "project" / "site.yaml", "title: From the root\n")
    assert find_config(source) == config.resolve()
    assert load_site_config(source).title == "From the root"


def test_config_above_the_repository_root_is_not_used(tmp_path):
    source = make_source(tmp_path, git="project")
    write(tmp_path / "site.yaml", "title: Someone else's\n")
    assert find_config(source) is None
    assert load_site_config(source).title == "pkg"


def test_outside_a_repository_only_the_source_folder_and_its_parent_are_searched(tmp_path):
    source = make_source(tmp_path)
    write(tmp_path / "project" / "site.yaml", "title: Too far\n")
    assert find_config(source) is None
    parent = write(source.parent / "site.yaml", "title: Parent\n")
    assert find_config(source) == parent.resolve()


def test_without_a_config_the_title_is_the_folder_name_and_no_url_is_known(tmp_path):
    source = make_source(tmp_path, "my_notes")
    config = load_site_config(source)
    assert config == SiteConfig(title="my_notes", source_root=tmp_path.resolve())
    assert config.url == "" and config.repo_url == ""


def test_explicit_config_wins_over_the_one_found(tmp_path):
    source = make_source(tmp_path)
    write(source / "site.yaml", "title: Found\n")
    explicit = write(tmp_path / "other.yaml", "title: Given\n")
    assert load_site_config(source, explicit).title == "Given"


def test_missing_explicit_config_is_an_error_naming_it(tmp_path):
    source = make_source(tmp_path)
    write(source / "site.yaml", "title: Found\n")  # must not be used as a fallback
    missing = tmp_path / "nope.yaml"
    error = error_of(source, missing)
    assert error.file == str(missing)
    assert "cannot read the site config" in error.reason


def test_unknown_key_is_an_error_naming_it_and_its_line(tmp_path):
    source = make_source(tmp_path)
    write(source / "site.yaml", "title: T\nrepo_ulr: https://git.mine.dev/\n")
    error = error_of(source)
    assert error.line == 2
    assert "'repo_ulr'" in error.reason and "repo_url" in error.reason


@pytest.mark.parametrize("url", [
    "https://labml-nn.example.org/",
    "https://example.com/docs/",
    "http://docs.example/",
    "https://github.com/example/labml_nn/blob/main/",
])
def test_placeholder_url_is_rejected(tmp_path, url):
    source = make_source(tmp_path)
    write(source / "site.yaml", f"title: T\nrepo_url: {url}\n")
    error = error_of(source)
    assert error.line == 2
    assert error.reason.startswith("placeholder URL:") and "leave the key out" in error.reason


@pytest.mark.parametrize("value", ["docs.mine.dev/", "ftp://mine.dev/", "123", "[a, b]"])
def test_url_that_is_not_an_absolute_http_url_is_rejected(tmp_path, value):
    source = make_source(tmp_path)
    write(source / "site.yaml", f"url: {value}\n")
    error = error_of(source)
    assert error.line == 1 and "url" in error.reason


def test_trailing_slash_is_added_to_urls(tmp_path):
    source = make_source(tmp_path)
    write(source / "site.yaml", "url: https://docs.mine.dev/notes\nrepo_url: https://git.mine.dev/me/notes/blob/main\n")
    config = load_site_config(source)
    assert config.url == "https://docs.mine.dev/notes/"
    assert config.repo_url == "https://git.mine.dev/me/notes/blob/main/"


def test_yaml_syntax_error_names_its_line(tmp_path):
    source = make_source(tmp_path)
    write(source / "site.yaml", "title: T\nurl: [unclosed\n")
    error = error_of(source)
    assert error.line >= 2 and "invalid YAML" in error.reason


def test_source_root_is_the_repository_root_when_there_is_one(tmp_path):
    source = make_source(tmp_path, git="project")
    explicit = write(tmp_path / "elsewhere.yaml", "title: T\n")
    assert load_site_config(source).source_root == (tmp_path / "project").resolve()
    assert load_site_config(source, explicit).source_root == (tmp_path / "project").resolve()


def test_source_root_outside_a_repository_is_the_config_files_folder(tmp_path):
    source = make_source(tmp_path)
    explicit = write(tmp_path / "site.yaml", "title: T\n")
    assert load_site_config(source, explicit).source_root == tmp_path.resolve()
