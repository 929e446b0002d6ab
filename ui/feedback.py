"""Thumbs up and down under each answer (Gradio's like/dislike), then an optional comment.

The chat keeps, per conversation, which `answer_id` each assistant message came from; a click rates that
answer through the same `Feedback` the HTTP API uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from assistant.errors import AssistantError
from assistant.feedback import Feedback

# Message index (as a string: states travel as JSON) -> answer_id of the record that message shows.
AnswerIds = dict[str, str]
COMMENT_PLACEHOLDER = {"up": "What was helpful? (optional)", "down": "What was wrong or missing? (optional)"}


def answer_index(history: list[Any]) -> str:
    """Where the answer to the message being sent lands: after the history and the question itself."""
    return str(len(history) + 1)


class FeedbackWidgets:
    """The comment row shown after a thumb click, and the states it needs."""

    def __init__(self, feedback: Feedback, answer_ids: gr.State) -> None:
        self.feedback = feedback
        self.answer_ids = answer_ids
        self.pending = gr.State(None)  # {"answer_id", "rating"} the comment box belongs to
        with gr.Row(visible=False, elem_id="assistant-feedback", equal_height=True) as self.row:
            self.comment = gr.Textbox(
                show_label=False,
                placeholder=COMMENT_PLACEHOLDER["down"],
                max_lines=3,
                scale=1,
                container=False,
                elem_id="assistant-feedback-comment",
            )
            self.send = gr.Button("Send", size="sm", scale=0, min_width=70, elem_id="assistant-feedback-send")
            self.close = gr.Button("✕", size="sm", scale=0, min_width=36, elem_id="assistant-feedback-close")

    def attach(self, chatbot: gr.Chatbot) -> None:
        hidden = self._hidden
        chatbot.like(
            self._rated,
            inputs=self.answer_ids,
            outputs=[self.row, self.comment, self.pending],
            api_visibility="private",
        )
        for trigger in (self.send.click, self.comment.submit):
            trigger(
                self._commented,
                inputs=[self.comment, self.pending],
                outputs=[self.row, self.comment, self.pending],
                api_visibility="private",
            )
        self.close.click(hidden, outputs=[self.row, self.comment, self.pending], api_visibility="private", queue=False)

    def reset(self, trigger: Callable[..., Any]) -> None:
        """*New chat* hides the comment box too."""
        trigger(self._hidden, outputs=[self.row, self.comment, self.pending], api_visibility="private", queue=False)

    @staticmethod
    def _hidden() -> tuple[Any, Any, None]:
        return gr.Row(visible=False), gr.Textbox(value=""), None

    async def _rated(self, answer_ids: AnswerIds, like: gr.LikeData) -> tuple[Any, Any, Any]:
        index = like.index[0] if isinstance(like.index, list | tuple) else like.index
        answer_id = (answer_ids or {}).get(str(index))
        if answer_id is None:
            gr.Warning("This message cannot be rated: only finished answers can.")
            return self._hidden()
        if like.liked == "":  # the same thumb clicked again: no rating
            await self.feedback.withdraw(answer_id)
            return self._hidden()
        rating = "up" if like.liked is True else "down"
        try:
            await self.feedback.rate(answer_id, rating)
        except AssistantError as error:
            gr.Warning(error.message)
            return self._hidden()
        pending = {"answer_id": answer_id, "rating": rating}
        return gr.Row(visible=True), gr.Textbox(value="", placeholder=COMMENT_PLACEHOLDER[rating]), pending

    async def _commented(self, comment: str, pending: dict[str, str] | None) -> tuple[Any, Any, Any]:
        if not pending:
            return self._hidden()
        if comment.strip():
            try:
                await self.feedback.rate(pending["answer_id"], pending["rating"], comment)
            except AssistantError as error:
                gr.Warning(error.message)  # the row stays open with the comment, so nothing typed is lost
                return gr.Row(visible=True), gr.Textbox(value=comment), pending
            gr.Info("Thanks for the feedback.")
        return self._hidden()
