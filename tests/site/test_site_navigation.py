"""Navigation built from page records (utils/site_navigation.py): tree, breadcrumbs, reading order."""

from utils.render_page import split_intro
from utils.site_navigation import (breadcrumbs, build_tree, folder_contents, prev_next, prev_next_all, reading_order,
                                   root_prefix)

TITLES = {"index.html": "Home", "opt/index.html": "Optimizers", "opt/adam.html": "Adam",
          "opt/radam.html": "RAdam", "loose/b/index.html": "B", "loose/b/deep.html": "Deep"}

def records(titles):
    """Page records without links or order: {url: {"title", "links", "order", "in_reading_order"}}."""
    return {url: {"title": title, "links": [], "order": [], "in_reading_order": True} for url, title in titles.items()}

def test_tree_nests_every_page_by_folder_with_index_first():
    tree = build_tree(records(TITLES))
    assert [n["url"] for n in tree] == ["index.html"]
    loose, opt = tree[0]["children"]
    assert (opt["title"], opt["url"]) == ("Optimizers", "opt/index.html")
    assert [c["url"] for c in opt["children"]] == ["opt/adam.html", "opt/radam.html"]
    assert (loose["title"], loose["url"]) == ("loose", "")            # folder without __init__.py
    assert loose["children"][0]["children"][0]["url"] == "loose/b/deep.html"

def test_breadcrumbs_go_home_folder_page_and_skip_folders_without_index():
    assert breadcrumbs("opt/adam.html", TITLES, "Site") == [
        {"title": "Home", "url": "index.html", "label": "Home"}, {"title": "Optimizers", "url": "opt/index.html"},
        {"title": "Adam", "url": "opt/adam.html"}]
    assert [c["url"] for c in breadcrumbs("loose/b/deep.html", TITLES, "Site")] == [
        "index.html", "loose/b/index.html", "loose/b/deep.html"]
    assert breadcrumbs("index.html", TITLES, "Site") == [{"title": "Home", "url": "index.html", "label": "Home"}]


def test_a_long_home_title_is_labelled_home_in_the_breadcrumbs():
    long_title = "Annotated Research Paper Implementations: Transformers, StyleGAN and more"
    home = breadcrumbs("opt/adam.html", dict(TITLES, **{"index.html": long_title}), "Site")[0]
    assert home == {"title": long_title, "url": "index.html", "label": "Home"}

def test_without_links_the_reading_order_is_alphabetical_and_depth_first():
    assert reading_order(records(TITLES)) == [
        "index.html", "loose/b/index.html", "loose/b/deep.html", "opt/index.html", "opt/adam.html", "opt/radam.html"]

ZOO = {"index.html": "Home", "opt/index.html": "Optimizers", "opt/adam.html": "Adam",
       "opt/ada_belief.html": "AdaBelief", "opt/radam.html": "RAdam", "opt/radam_plot.html": "RAdam plot",
       "opt/results/readme.html": "Results", "opt/sgd.html": "SGD"}

def test_an_index_pages_links_set_its_folders_order():
    pages = records(ZOO)
    pages["opt/index.html"]["links"] = ["sgd.html", "https://arxiv.org/abs/1412.6980", "adam.html#section-2",
                                        "radam.html", "ada_belief.html", "results/readme.html", "adam.html"]
    tree = build_tree(pages)
    opt = tree[0]["children"][0]
    assert [c["url"] for c in opt["children"]] == [
        "opt/sgd.html", "opt/adam.html", "opt/radam.html", "opt/ada_belief.html", "opt/results/readme.html",
        "opt/radam_plot.html"]   # not linked: after the linked ones
    assert reading_order(pages)[1:6] == ["opt/index.html", "opt/sgd.html", "opt/adam.html", "opt/radam.html",
                                         "opt/ada_belief.html"]

def test_front_matter_order_comes_before_the_links():
    pages = records(ZOO)
    pages["opt/index.html"]["links"] = ["sgd.html", "adam.html"]
    pages["opt/index.html"]["order"] = ["radam.py", "results"]
    assert [c["url"] for c in build_tree(pages)[0]["children"][0]["children"]][:4] == [
        "opt/radam.html", "opt/results/readme.html", "opt/sgd.html", "opt/adam.html"]

def test_tooling_pages_stay_out_of_previous_next_and_lead_back_to_their_index():
    pages = records(ZOO)
    pages["opt/radam_plot.html"]["in_reading_order"] = False
    links = prev_next_all(pages)
    assert "opt/radam_plot.html" not in reading_order(pages)
    assert links["opt/radam_plot.html"] == (None, {"title": "Optimizers", "url": "opt/index.html"})
    assert links["opt/radam.html"][1]["url"] == "opt/sgd.html"     # the plot between them is skipped

def test_every_page_has_a_next_step_and_the_last_leads_back_to_the_start():
    pages = records(ZOO)
    links = prev_next_all(pages)
    assert all(links[url][1] is not None for url in pages)
    last = reading_order(pages)[-1]
    assert links[last][1] == {"title": "Home", "url": "index.html"}
    # A results page in a folder of its own is not a dead end
    assert links["opt/results/readme.html"][1] is not None

def test_reading_order_crosses_folders_like_a_book():
    assert prev_next("opt/index.html", records(TITLES)) == (
        {"title": "Deep", "url": "loose/b/deep.html"}, {"title": "Adam", "url": "opt/adam.html"})
    assert prev_next("index.html", records(TITLES))[0] is None

def test_a_single_page_site_has_no_previous_or_next():
    assert prev_next("index.html", records({"index.html": "Home"})) == (None, None)

def test_root_prefix_climbs_one_level_per_folder():
    assert [root_prefix(u) for u in ("index.html", "opt/adam.html", "a/b/c.html")] == ["", "../", "../../"]


def test_extension_less_and_folder_links_count_as_the_pages_they_reach():
    pages = records(ZOO)
    pages["opt/index.html"]["links"] = ["results/", "sgd", "../opt/radam.html"]
    assert [c["url"] for c in build_tree(pages)[0]["children"][0]["children"]][:3] == [
        "opt/results/readme.html", "opt/sgd.html", "opt/radam.html"]


def test_an_index_page_lists_its_folder_as_cards_in_reading_order_with_summaries():
    pages = records(ZOO)
    pages["opt/index.html"]["links"] = ["sgd.html", "adam.html"]
    pages["opt/sgd.html"]["summary"] = "Plain gradient descent."
    pages["opt/radam_plot.html"]["in_reading_order"] = False
    cards = folder_contents(pages, "opt/index.html")
    assert [c["url"] for c in cards] == ["opt/sgd.html", "opt/adam.html", "opt/ada_belief.html", "opt/radam.html",
                                         "opt/results/readme.html"]     # the tooling page is not a card
    assert cards[0] == {"title": "SGD", "url": "opt/sgd.html", "summary": "Plain gradient descent."}
    # The home page lists the sections (folders) by their index pages; other pages list nothing
    assert [c["url"] for c in folder_contents(pages, "index.html")] == ["opt/index.html"]
    assert folder_contents(pages, "opt/adam.html") == []


def test_the_cards_go_after_the_title_and_its_first_paragraph():
    html = '<h1 id="a">Optimizers</h1>\n<p>What they are.</p>\n<h2 id="b">More</h2>\n<p>Long prose.</p>\n'
    assert split_intro(html) == ('<h1 id="a">Optimizers</h1>\n<p>What they are.</p>',
                                 '\n<h2 id="b">More</h2>\n<p>Long prose.</p>\n')
    assert split_intro('<h1>T</h1>\n<ul><li>x</li></ul>') == ('<h1>T</h1>', '\n<ul><li>x</li></ul>')
    assert split_intro('<p>No title.</p>') == ('', '<p>No title.</p>')
