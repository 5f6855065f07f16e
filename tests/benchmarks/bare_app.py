"""The baseline for first paint: a bare Textual app (Header, one Static, Footer)."""

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

READY = "bare app ready"


class BareApp(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(READY)
        yield Footer()


if __name__ == "__main__":
    BareApp().run()
