"""Backstage's default look: its font stack and primary colours, light and dark."""

from __future__ import annotations

import gradio as gr

# Backstage's default theme (@backstage/theme): font stack and palette.
FONTS = ["Helvetica Neue", "Helvetica", "Roboto", "Arial", "sans-serif"]
LIGHT = {"primary": "#1F5493", "background": "#F8F8F8", "paper": "#FFFFFF", "text": "rgba(0, 0, 0, 0.87)"}
DARK = {"primary": "#9CC9FF", "background": "#333333", "paper": "#424242", "text": "#FFFFFF"}


def backstage_theme() -> gr.themes.Base:
    """A Gradio theme in Backstage's colours. Fonts are local names: nothing is fetched from a font CDN."""
    return gr.themes.Default(font=FONTS, font_mono=["Roboto Mono", "Menlo", "monospace"], radius_size="sm").set(
        body_background_fill=LIGHT["background"],
        body_background_fill_dark=DARK["background"],
        background_fill_primary=LIGHT["paper"],
        background_fill_primary_dark=DARK["paper"],
        body_text_color=LIGHT["text"],
        body_text_color_dark=DARK["text"],
        color_accent=LIGHT["primary"],
        color_accent_soft="#E3ECF6",
        color_accent_soft_dark="#2B3A4A",
        link_text_color=LIGHT["primary"],
        link_text_color_dark=DARK["primary"],
        link_text_color_hover=LIGHT["primary"],
        link_text_color_hover_dark=DARK["primary"],
        button_primary_background_fill=LIGHT["primary"],
        button_primary_background_fill_dark=DARK["primary"],
        button_primary_background_fill_hover="#17406F",
        button_primary_background_fill_hover_dark="#BBDAFF",
        button_primary_text_color="#FFFFFF",
        button_primary_text_color_dark="#1E1E1E",
        input_border_color_focus=LIGHT["primary"],
        input_border_color_focus_dark=DARK["primary"],
    )


# The page lives in an iframe below Backstage's header: no Gradio chrome, and it must read well from 360 px
# wide. The document is exactly the frame's height: Gradio's fill_height makes every level a flex column,
# and here each level may also shrink (min-height: 0), so the chat takes what the header, the input, the
# settings, the feedback row and the storage note leave, and scrolls inside itself. No second scrollbar.
CSS = """
footer, .built-with, .show-api { display: none !important; }
html { height: 100%; }
body { height: 100%; margin: 0; }
body, gradio-app, .gradio-container, .gradio-container > .main, .gradio-container .wrap, .gradio-container .contain,
.gradio-container .contain .column { min-height: 0 !important; }
gradio-app { flex: 1 1 0 !important; }
.gradio-container { max-width: 100% !important; padding: 8px clamp(6px, 2vw, 12px) !important; box-sizing: border-box; }
.gradio-container > .main { padding: 0 !important; }
#assistant-chat { height: auto !important; flex: 1 1 0 !important; min-height: 96px !important; }
#assistant-header h2 { margin: 0; font-size: 1.15rem; }
#assistant-header p { margin: 2px 0 0; opacity: 0.8; font-size: 0.9rem; }
#assistant-scope { border-left: 3px solid var(--color-accent); padding: 4px 10px; }
/* The settings scroll inside themselves rather than push the page past the frame. */
.gradio-container .contain .column > .block:has(#assistant-prompt) { max-height: 40vh; overflow-y: auto; }
/* The sources follow the answer after a thin rule, not after a blank band (prose gives <hr> 3em margins). */
#assistant-chat .message-content hr { margin: 8px 0 4px !important; }
#assistant-chat .message-content hr + p { margin-top: 0 !important; }
/* The comment box opens right under the chat, above the input: the chat interface's own column is
   flattened into the page's so that the feedback row can be ordered between its children. */
.column:has(> #assistant-chat) { display: contents; }
.column:has(> #assistant-chat) > :not(#assistant-chat) { order: 2; }
#assistant-feedback { flex: none; gap: 8px; order: 1; }
/* The storage note sits above the page in the flow and pushes it down; the page shrinks to fit the frame. */
#assistant-storage-note { flex: none; cursor: pointer;
  font: 12px/1.4 "Helvetica Neue", Helvetica, Roboto, Arial, sans-serif; padding: 6px 12px;
  background: #FFF4E5; color: #663C00; border-bottom: 1px solid #FFB547; }
@media (max-width: 480px) {
  #assistant-header p { display: none; }
}
"""
