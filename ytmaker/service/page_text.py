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
        "text_placeholder": "Paste an article, notes or a topic here…",
        "drop": "Drop a .txt or .md file here, or choose one:",
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
        "text_placeholder": "在这里粘贴文章、笔记或话题……",
        "drop": "把 .txt 或 .md 文件拖到这里，或者选择文件：",
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
