"""Navigation built from page titles (utils/site_navigation.py): tree, breadcrumbs, previous/next."""
from utils.site_navigation import breadcrumbs, build_tree, prev_next, root_prefix

TITLES = {"index.html": "Home", "opt/index.html": "Optimizers", "opt/adam.html": "Adam",
          "opt/radam.html": "RAdam", "loose/b/index.html": "B", "loose/b/deep.html": "Deep"}


def test_tree_nests_every_page_by_folder_with_index_first():
    tree = build_tree(TITLES)
    assert [n["url"] for n in tree] == ["index.html"]
    loose, opt = tree[0]["children"]
    assert (opt["title"], opt["url"]) == ("Optimizers", "opt/index.html")
    assert [c["url"] for c in opt["children"]] == ["opt/adam.html", "opt/radam.html"]
    assert (loose["title"], loose["url"]) == ("loose", "")            # folder without __init__.py
    assert loose["children"][0]["children"][0]["url"] == "loose/b/deep.html"


def test_breadcrumbs_go_home_folder_page_and_skip_folders_without_index():
    assert breadcrumbs("opt/adam.html", TITLES, "Site") == [
        {"title": "Home", "url": "index.html"}, {"title": "Optimizers", "url": "opt/index.html"},
        {"title": "Adam", "url": "opt/adam.html"}]
    assert [c["url"] for c in breadcrumbs("loose/b/deep.html", TITLES, "Site")] == [
        "index.html", "loose/b/index.html", "loose/b/deep.html"]
    assert breadcrumbs("index.html", TITLES, "Site") == [{"title": "Home", "url": "index.html"}]


def test_prev_next_stay_within_the_folder():
    assert prev_next("opt/index.html", TITLES) == (None, {"title": "Adam", "url": "opt/adam.html"})
    assert prev_next("opt/radam.html", TITLES) == ({"title": "Adam", "url": "opt/adam.html"}, None)
    assert prev_next("index.html", TITLES) == (None, None)


def test_root_prefix_climbs_one_level_per_folder():
    assert [root_prefix(u) for u in ("index.html", "opt/adam.html", "a/b/c.html")] == ["", "../", "../../"]
