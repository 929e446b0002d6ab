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


# The page lives in an iframe below Backstage's header: no Gradio chrome, no second scrollbar, and it must
# read well from 360 px wide.
CSS = """
footer, .built-with, .show-api { display: none !important; }
.gradio-container { max-width: 100% !important; padding: 8px 12px !important; box-sizing: border-box; }
/* The chat takes what the frame has left after the header, the input and the settings row. */
#assistant-chat { height: calc(100vh - 250px) !important; min-height: 220px; }
#assistant-header h2 { margin: 0; font-size: 1.15rem; }
#assistant-header p { margin: 2px 0 0; opacity: 0.8; font-size: 0.9rem; }
#assistant-scope { border-left: 3px solid var(--color-accent); padding: 4px 10px; }
#assistant-storage-note { position: fixed; top: 0; left: 0; right: 0; z-index: 1000; cursor: pointer;
  font: 12px/1.4 "Helvetica Neue", Helvetica, Roboto, Arial, sans-serif; padding: 6px 12px;
  background: #FFF4E5; color: #663C00; border-bottom: 1px solid #FFB547; }
@media (max-width: 480px) {
  .gradio-container { padding: 4px !important; }
  #assistant-header p { display: none; }
  #assistant-chat { height: calc(100vh - 210px) !important; }
}
"""
