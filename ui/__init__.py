"""The Gradio chat page that Backchat shows in its iframe inside Backstage."""
