"""ytmaker.sources.html.from_html on pages the tests write: only the article reaches the text, as ytmaker text."""

from __future__ import annotations

import re

import pytest

from ytmaker.errors import InvalidInput
from ytmaker.sources.html import from_html

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Why Bridges Sway | Example News</title>
<meta property="og:title" content="Why Bridges Sway">
<style>body { font: 12px sans-serif } .navbar { color: crimson }</style>
<script>var tracking = "pixel-7731"; function beacon() { return tracking; }</script>
</head><body>
<div id="cookie-banner" class="cookie-consent">We use cookies to personalise adverts. Accept all cookies or manage
  cookie settings.</div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/login">Log in</a></li></ul>
</nav></header>
<main><article>
<h1>Why Bridges Sway</h1>
<p>Every large bridge moves a little. Wind pushes against the deck, traffic rolls across it, and the steel
  expands in the summer heat. Engineers expect this and design for it.</p>
<h2>Resonance</h2>
<p>Trouble starts when a small push arrives at just the right rhythm. Each gust adds to the last, and the
  swaying grows far larger than any single gust could cause on its own.</p>
<ul><li>Wind that gusts at a steady rate</li><li>Crowds that walk in step;</li><li>Traffic that bounces together!</li></ul>
<pre><code>def frequency(mass, stiffness): return stiffness / mass</code></pre>
<table><tr><th>Bridge</th><th>Opened</th></tr><tr><td>Tacoma Narrows</td><td>1940</td></tr></table>
<h2>Damping</h2>
<p>Modern bridges carry dampers: heavy weights on springs that move against the sway and soak up its energy.
  The Millennium Bridge in London was fitted with them after it wobbled on its opening day.</p>
</article>
<section id="comments" class="comments"><h3>Comments</h3>
  <div class="comment"><p>Grumpycat says: first! My uncle built a shed once and it never swayed.</p></div></section>
</main>
<aside class="newsletter"><p>Subscribe to our newsletter for weekly updates.</p></aside>
<footer><p>Copyright 2026 Example News. Privacy policy. Terms of use.</p></footer>
</body></html>"""

CHINESE_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>大熊猫的一天 - 自然频道</title><script>var 统计 = "追踪代码";</script></head><body>
<nav><a href="/">首页</a> <a href="/news">新闻</a> <a href="/login">登录</a></nav>
<article><h1>大熊猫的一天</h1>
<p>大熊猫每天要花十几个小时吃竹子。它们的消化系统其实更像食肉动物，
所以只能吸收竹子中很少的营养。</p>
<h2>睡觉和玩耍</h2>
<p>吃饱以后，大熊猫通常会找一个舒服的地方睡觉。年轻的熊猫喜欢爬树，也喜欢在雪地里打滚。</p>
<ul><li>早上吃竹笋</li><li>中午睡午觉</li><li>晚上再吃竹子！</li></ul>
<p>在野外，一只大熊猫的活动范围大约有几平方公里，它们大多独自生活。</p>
</article>
<div class="comments"><p>网友：太可爱了，我想去成都看熊猫。</p></div>
<footer>版权所有 2026 自然频道 隐私政策</footer></body></html>"""

CHINESE_BLOCKS = [
    "# 大熊猫的一天",
    "大熊猫每天要花十几个小时吃竹子。它们的消化系统其实更像食肉动物，所以只能吸收竹子中很少的营养。",
    "# 睡觉和玩耍",
    "吃饱以后，大熊猫通常会找一个舒服的地方睡觉。年轻的熊猫喜欢爬树，也喜欢在雪地里打滚。",
    "早上吃竹笋。中午睡午觉。晚上再吃竹子！",
    "在野外，一只大熊猫的活动范围大约有几平方公里，它们大多独自生活。",
]


def test_only_the_article_reaches_the_text_with_its_headings_paragraphs_and_list() -> None:
    source = from_html(ARTICLE_PAGE.encode(), url="https://news.example/bridges")

    assert (source.kind, source.title, source.url) == ("html", "Why Bridges Sway", "https://news.example/bridges")
    assert source.text.split("\n\n") == [
        "# Why Bridges Sway",
        "Every large bridge moves a little. Wind pushes against the deck, traffic rolls across it, and the steel "
        "expands in the summer heat. Engineers expect this and design for it.",
        "# Resonance",
        "Trouble starts when a small push arrives at just the right rhythm. Each gust adds to the last, and the "
        "swaying grows far larger than any single gust could cause on its own.",
        "Wind that gusts at a steady rate. Crowds that walk in step. Traffic that bounces together!",
        "# Damping",
        "Modern bridges carry dampers: heavy weights on springs that move against the sway and soak up its energy. "
        "The Millennium Bridge in London was fitted with them after it wobbled on its opening day.",
    ]


@pytest.mark.parametrize("word", [
    "tracking", "pixel", "beacon", "font", "crimson",  # script and style
    "cookie", "adverts",  # the cookie banner
    "Home", "World", "Log in",  # the navigation
    "Grumpycat", "uncle", "Comments",  # the comments
    "Subscribe", "newsletter",  # the call to subscribe
    "Copyright", "Privacy", "Terms",  # the footer
    "def frequency", "stiffness", "Tacoma", "1940",  # code and a table
    "Example News",  # the site's name in <title>
])
def test_no_page_furniture_reaches_the_text(word: str) -> None:
    assert word.casefold() not in from_html(ARTICLE_PAGE).text.casefold()


def test_a_chinese_page_in_gb2312_is_decoded_from_its_meta_charset() -> None:
    source = from_html(CHINESE_PAGE.encode("gb18030"), url="https://zh.example/panda")
    assert source.title == "大熊猫的一天"
    assert source.text.split("\n\n") == CHINESE_BLOCKS
    for word in ("首页", "登录", "追踪", "网友", "版权", "自然频道"):
        assert word not in source.text


def test_the_http_headers_charset_decodes_a_page_that_declares_none() -> None:
    page = CHINESE_PAGE.replace('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "")
    assert from_html(page.encode("gbk"), charset="GBK").text.split("\n\n") == CHINESE_BLOCKS


def test_the_page_title_becomes_the_first_heading_when_the_article_has_none() -> None:
    page = """<html><head><title>Tides Explained</title></head><body><div class="post">
    <p>The sea rises and falls twice a day because the moon pulls the water towards it. The sun pulls too, but less.</p>
    <p>When sun and moon line up, the tides are strongest. Sailors call these spring tides, whatever the season.</p>
    </div></body></html>"""
    source = from_html(page)
    assert source.title == "Tides Explained"
    assert source.text.startswith("# Tides Explained\n\nThe sea rises and falls twice a day")
    assert source.url is None


def test_a_heading_that_is_the_title_without_the_sites_name_is_not_repeated() -> None:
    page = """<html><head><title>Ocean Weekly: Tides Explained</title></head><body><article><h1>Tides explained</h1>
    <p>The sea rises and falls twice a day because the moon pulls the water towards it. The sun pulls too, but less.</p>
    </article></body></html>"""
    source = from_html(page)
    assert source.title == "Tides explained"
    assert source.text == "# Tides explained\n\nThe sea rises and falls twice a day because the moon pulls the water towards it. " \
        "The sun pulls too, but less."


@pytest.mark.parametrize("page", [
    # a sign-in form and menus: trafilatura's fallback keeps their labels, which are no article
    """<html><head><title>Sign in</title></head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <form><label>Email</label><input name="e"><label>Password</label><input type="password"><button>Log in</button></form>
    <footer>Copyright 2026 Example</footer></body></html>""",
    # a page of links
    "<html><head><title>Index</title></head><body><ul>"
    + "".join(f'<li><a href="/a{i}">Article number {i}</a></li>' for i in range(30)) + "</ul></body></html>",
    # scripts only, and nothing at all
    "<html><head><script>var a = 1;</script></head><body></body></html>",
    "",
])
def test_a_page_without_an_article_is_refused(page: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape("found no article text on https://x.example/page")):
        from_html(page.encode(), url="https://x.example/page")
