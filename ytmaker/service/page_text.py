"""The web page's words, in English and Chinese, and choosing between them (a ``?lang=`` switch, its cookie, Accept-Language)."""

from __future__ import annotations

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
#: the cookie that keeps the switch's choice
COOKIE = "ytmaker_lang"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "html_lang": "en",
        "title": "ytmaker: text to narrated video",
        "tagline": "Paste a text, watch it become a narrated video.",
        "new": "New video",
        "text": "Text",
        "text_placeholder": "Paste an article, notes, a topic or a web page's address here…",
        "drop": "Drop a text, Markdown, HTML, PDF or Word (.docx) file here, or choose one:",
        "file_chosen": "This file will be sent:",
        "video_title": "Title (optional: taken from the text)",
        "language": "Language",
        "language_auto": "Detect from the text",
        "format": "Format",
        "format_16:9": "16:9 landscape",
        "format_9:16": "9:16 vertical (Shorts)",
        "voice": "Voice (optional)",
        "max_duration": "Longest video, seconds (0: the whole text)",
        "captions": "Captions",
        "captions_auto": "Automatic",
        "captions_words": "Word by word",
        "captions_sentences": "Sentences",
        "captions_off": "Off",
        "submit": "Make the video",
        "sending": "Sending…",
        "project": "Project",
        "overall": "Overall",
        "stage_script": "Script",
        "stage_images": "Images",
        "stage_audio": "Narration",
        "stage_avatars": "Avatars",
        "stage_render": "Render",
        "stage_thumbnail": "Thumbnail",
        "stage_upload": "Publish",
        "status_queued": "Queued",
        "status_running": "Running",
        "status_succeeded": "Done",
        "status_skipped": "Skipped",
        "status_script_generating": "Writing the script",
        "status_assets_generating": "Making pictures and narration",
        "status_rendering": "Rendering",
        "status_thumbnail_generating": "Making the thumbnail",
        "status_uploading": "Publishing",
        "status_completed": "Done",
        "status_failed": "Failed",
        "status_cancelled": "Cancelled",
        "failed_because": "Why it failed",
        "failed_at": "at the stage",
        "cancel": "Cancel",
        "retry": "Retry",
        "delete": "Delete",
        "download_video": "Download the video",
        "download_srt": "Subtitles (SRT)",
        "download_vtt": "Subtitles (VTT)",
        "thumbnail": "Thumbnail",
        "projects": "Projects",
        "no_projects": "No projects yet: make the first one above.",
        "untitled": "(untitled)",
        "open": "Open",
        "token_title": "Sign in with an API token",
        "token_help": "This server needs an API token (ytmaker token create NAME). The page keeps it in a cookie, never in a URL.",
        "token": "API token",
        "token_submit": "Sign in",
        "token_refused": "That token was refused.",
        "public_no_token": "This server listens beyond loopback and has no API token yet: create one with "
                           "ytmaker token create NAME, then sign in here.",
        "live": "Live",
        "reconnecting": "Reconnecting…",
        "error": "Error",
        "switch": "Language",
        "sign_out": "Sign out",
    },
    "zh": {
        "html_lang": "zh-Hans",
        "title": "ytmaker：文字转解说视频",
        "tagline": "粘贴一段文字，看着它变成一段有解说的视频。",
        "new": "新视频",
        "text": "文字",
        "text_placeholder": "在这里粘贴文章、笔记、话题或网页地址……",
        "drop": "把文本、Markdown、HTML、PDF 或 Word（.docx）文件拖到这里，或者选择文件：",
        "file_chosen": "将发送这个文件：",
        "video_title": "标题（可选：默认取自文字）",
        "language": "语言",
        "language_auto": "根据文字自动识别",
        "format": "画面比例",
        "format_16:9": "16:9 横屏",
        "format_9:16": "9:16 竖屏（Shorts）",
        "voice": "配音（可选）",
        "max_duration": "视频最长秒数（0：整篇文字）",
        "captions": "字幕",
        "captions_auto": "自动",
        "captions_words": "逐词高亮",
        "captions_sentences": "整句",
        "captions_off": "关闭",
        "submit": "生成视频",
        "sending": "正在提交……",
        "project": "项目",
        "overall": "总进度",
        "stage_script": "脚本",
        "stage_images": "图片",
        "stage_audio": "配音",
        "stage_avatars": "数字人",
        "stage_render": "渲染",
        "stage_thumbnail": "封面",
        "stage_upload": "发布",
        "status_queued": "排队中",
        "status_running": "进行中",
        "status_succeeded": "完成",
        "status_skipped": "跳过",
        "status_script_generating": "正在写脚本",
        "status_assets_generating": "正在生成图片和配音",
        "status_rendering": "正在渲染",
        "status_thumbnail_generating": "正在生成封面",
        "status_uploading": "正在发布",
        "status_completed": "已完成",
        "status_failed": "失败",
        "status_cancelled": "已取消",
        "failed_because": "失败原因",
        "failed_at": "失败的阶段",
        "cancel": "取消",
        "retry": "重试",
        "delete": "删除",
        "download_video": "下载视频",
        "download_srt": "字幕（SRT）",
        "download_vtt": "字幕（VTT）",
        "thumbnail": "封面",
        "projects": "项目列表",
        "no_projects": "还没有项目：在上面生成第一个吧。",
        "untitled": "（无标题）",
        "open": "打开",
        "token_title": "用 API 令牌登录",
        "token_help": "这个服务需要 API 令牌（ytmaker token create NAME）。页面把它保存在 Cookie 里，绝不放进网址。",
        "token": "API 令牌",
        "token_submit": "登录",
        "token_refused": "令牌无效。",
        "public_no_token": "这个服务监听的不只是本机地址，但还没有 API 令牌：先运行 ytmaker token create NAME 创建一个，再在这里登录。",
        "live": "实时",
        "reconnecting": "正在重新连接……",
        "error": "错误",
        "switch": "语言",
        "sign_out": "退出登录",
    },
}


#: the progress messages the stages write (in English: ytmaker.stages, ytmaker.pipelines, ytmaker.outages) as the page
#: shows them in its other languages: (a JavaScript pattern whose groups are named, the words with {group} in them;
#: {stage} is shown as the stage's word). A message no pattern matches is shown as written.
PROGRESS: dict[str, list[tuple[str, str]]] = {"zh": [
    (r"^queued$", "排队中"),
    (r"^done$", "完成"),
    (r"^cancelled$", "已取消"),
    (r"^retrying$", "正在重试"),
    (r"^(?<stage>\w+) started$", "{stage}：开始"),
    (r"^(?<stage>\w+) done$", "{stage}：完成"),
    (r"^(?<stage>\w+) skipped$", "{stage}：已跳过"),
    (r"^(?<stage>\w+): attempt (?<n>\d+) failed \((?<why>.*)\); retrying in (?<s>[\d.]+) s$",
     "{stage}：第 {n} 次尝试失败（{why}），{s} 秒后重试"),
    (r"^(?<stage>\w+): attempt (?<n>\d+) failed \((?<why>.*)\); retrying in (?<when>.+)$",
     "{stage}：第 {n} 次尝试失败（{why}），{when} 重试"),
    (r"^(?<stage>\w+): waiting \((?<why>.*)\); going on at (?<when>.+)$", "{stage}：等待中（{why}），{when} 继续"),
    (r"^(?<stage>\w+): a part failed \((?<why>.*)\); retrying in (?<s>[\d.]+) s$", "{stage}：有一部分失败（{why}），{s} 秒后重试"),
    (r"^waiting for the database$", "等待数据库恢复"),
    (r"^waiting for (?<what>.+)$", "等待 {what} 恢复"),
    (r"^writing the script$", "正在写脚本"),
    (r"^asking (?<model>.+)$", "正在询问 {model}"),
    (r"^the model's JSON was unusable; asking it to repair it$", "模型返回的 JSON 无法使用，正在请它修正"),
    (r"^text cut to (?<n>[\d,]+) characters for the model$", "文本已截为 {n} 个字符交给模型"),
    (r"^(?<n>\d+) sentences found$", "找到 {n} 个句子"),
    (r"^(?<n>\d+) segments written$", "已写好 {n} 段"),
    (r"^script: (?<n>\d+) segments$", "脚本：{n} 段"),
    (r"^image (?<i>\d+) of (?<n>\d+)$", "图片 {i}/{n}"),
    (r"^images: (?<n>\d+) to make, in parallel$", "图片：{n} 张并行制作"),
    (r"^narration (?<i>\d+) of (?<n>\d+)$", "配音 {i}/{n}"),
    (r"^no avatar provider configured: skipped$", "未配置数字人：已跳过"),
    (r"^avatars: (?<i>\d+) of (?<n>\d+) ready, waiting for D-ID \((?<s>\d+) s\)$", "数字人：{i}/{n} 已就绪，等待 D-ID（{s} 秒）"),
    (r"^rendering (?<s>[\d.]+) s of video$", "正在渲染 {s} 秒视频"),
    (r"^rendering: (?<p>\d+)%$", "渲染中：{p}%"),
    (r"^publishing to (?<where>.+)$", "正在发布到 {where}"),
    (r"^published: (?<url>.+)$", "已发布：{url}"),
]}


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """``?lang=``, else the switch's cookie, else the first of Accept-Language's languages the page speaks (by weight)."""
    for choice in (query, cookie):
        if choice in TEXT:
            return choice
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight, index, tag.strip().lower().split("-")[0]))
    for _weight, _index, language in sorted(ranked):
        if language in TEXT:
            return language
    return DEFAULT
