"""The Audit page's widgets: the chain-state banner, the interrupted-promotions panel and the
entry details the Details dock shows.

Status is said in words and with an icon; red is added for a broken chain, never alone.
"""

from __future__ import annotations

import html
import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from relman.release.audit import GENESIS

from .audit_model import AuditRow, AuditSnapshot, pending_text
from .icons import IconSet, svg_icon
from .qtcompat import emit

#: Problems listed in the banner; the rest are counted (the exported report has them all).
BANNER_PROBLEMS = 8


def alert_colour(palette: QPalette) -> QColor:
    """A red that reads on the palette's window colour, light or dark."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    return QColor("#ff8a80" if dark else "#b3261e")


def _mono(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def entry_html(row: AuditRow, checked: bool) -> str:
    """One entry's evidence as rich text: facts, signature, chain problems, the body."""
    e = html.escape
    entry = row.entry
    if not checked:
        signature = "not checked yet (Verify chain)"
    else:
        verified, said = row.signature_status
        signature = f"{'✓' if verified else '✗'} {e(said)}"
    prev = _mono(entry.prev)
    if entry.prev == GENESIS:
        prev += " (the first entry: nothing before it)"
    facts = [
        ("Seq", e(str(entry.seq))),
        ("Line", e(str(entry.line))),
        ("Time", f"{e(row.time_exact)} ({e(row.time_text)})"),
        ("Event", e(entry.event)),
        ("Key", e(entry.key)),
        ("Fingerprint", _mono(entry.fingerprint)),
        ("Prev", prev),
        ("Signature", signature),
    ]
    parts = [f"<h3>Entry {entry.seq}: {e(entry.event)}</h3><table>"]
    for name, value in facts:
        parts.append(f"<tr><td valign='top'><b>{name}</b>&nbsp;</td><td>{value}</td></tr>")
    parts.append("</table>")
    if row.problems:
        parts.append(f"<h4>✗ Problems on line {entry.line} ({len(row.problems)})</h4><ul>")
        parts.extend(f"<li>{e(p.detail)}</li>" for p in row.problems)
        parts.append("</ul>")
    elif checked:
        parts.append("<p>✓ No problem found on this line.</p>")
    body = json.dumps(entry.body, indent=2, ensure_ascii=False)
    parts.append(f"<h4>Body</h4><pre style='white-space: pre-wrap'>{e(body)}</pre>")
    parts.append(f"<h4>Signature value</h4><p>{_mono(entry.signature)}</p>")
    return "".join(parts)


class AuditDetails(QTextBrowser):
    """The selected entry's full evidence, read-only and selectable (in the Details dock)."""

    EMPTY = "Select an audit entry to see its full body, prev hash and signature status."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Audit entry details")
        self.setOpenLinks(False)
        self.row: AuditRow | None = None
        self.show_row(None)

    def show_row(self, row: AuditRow | None, checked: bool = True) -> None:
        self.row = row
        if row is None:
            self.setHtml(f"<p>{html.escape(self.EMPTY)}</p>")
        else:
            self.setHtml(entry_html(row, checked))


class ChainBanner(QFrame):
    """The chain's state: an icon, a headline and the problems (or who signed)."""

    problem_clicked = Signal(int)

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.setObjectName("chainBanner")
        self.setAccessibleName("Chain state")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.outcome = "unknown"
        layout = QHBoxLayout(self)
        self.icon = QLabel()
        self.icon.setAccessibleName("Chain state icon")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.icon)
        column = QVBoxLayout()
        self.headline = QLabel()
        self.headline.setObjectName("pageTitle")
        self.headline.setAccessibleName("Chain state headline")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setAccessibleName("Chain state details")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.details.linkActivated.connect(self._link)
        column.addWidget(self.headline)
        column.addWidget(self.details)
        layout.addLayout(column, 1)

    def show_state(self, outcome: str, headline: str, lines: list[str], icon: str) -> None:
        """``outcome``: ``intact``, ``broken``, ``busy`` or ``error`` (styled; said in words)."""
        self.outcome = outcome
        self.setProperty("outcome", outcome)
        alarming = outcome in ("broken", "error")
        colour = alert_colour(self.palette())
        if alarming:
            drawn = svg_icon(icon, colour, self.palette().color(QPalette.ColorRole.Base))
        else:
            drawn = self._icons.status(icon)
        self.icon.setPixmap(drawn.pixmap(32, 32))
        self.icon.setToolTip(outcome)
        for label in (self.headline, self.details):
            palette = label.palette()
            if alarming:
                palette.setColor(QPalette.ColorRole.WindowText, colour)
            else:
                palette = self.palette()
            label.setPalette(palette)
        self.headline.setText(headline)
        self.details.setText(_lines_html(lines))
        self.setAccessibleDescription(f"{headline}. {' '.join(lines)}")

    def text(self) -> str:
        """The headline and details as plain text (tests, screen readers)."""
        return self.accessibleDescription()

    def _link(self, target: str) -> None:
        if target.startswith("line:"):
            emit(self.problem_clicked, int(target[5:]))


def _lines_html(lines: list[str]) -> str:
    """Lines as rich text, ``line N:`` made a link that selects the entry on that line."""
    shown = []
    for line in lines[:BANNER_PROBLEMS]:
        head, sep, rest = line.partition(": ")
        number = head[5:] if head.startswith("line ") else ""
        if sep and number.isdigit():
            shown.append(f"<a href='line:{number}'>{html.escape(head)}</a>: {html.escape(rest)}")
        else:
            shown.append(html.escape(line))
    more = len(lines) - BANNER_PROBLEMS
    if more > 0:
        shown.append(f"… and {more} more (Export report lists them all)")
    return "<br>".join(shown)


class PendingPanel(QFrame):
    """Promotions whose intent the log holds and whose outcome it does not (crash recovery)."""

    entry_clicked = Signal(int)

    def __init__(self, icons: IconSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icons = icons
        self.setObjectName("pendingPanel")
        self.setAccessibleName("Interrupted promotions")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "QFrame#pendingPanel { border: 2px solid palette(text); border-radius: 6px;"
            " background: palette(alternate-base); }"
        )
        layout = QHBoxLayout(self)
        self.icon = QLabel()
        self.icon.setAccessibleName("Interrupted promotions icon")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.icon)
        self.text = QLabel()
        self.text.setAccessibleName("Interrupted promotions text")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.text.linkActivated.connect(self._link)
        layout.addWidget(self.text, 1)
        self.hide()

    def show_snapshot(self, snapshot: AuditSnapshot) -> None:
        if snapshot.pending_error:
            self.icon.setPixmap(self._icons.status("not-verified").pixmap(24, 24))
            self.text.setText(
                "<b>Warning: interrupted promotions cannot be listed</b><br>"
                + html.escape(snapshot.pending_error)
            )
            self.show()
            return
        if not snapshot.pending:
            self.hide()
            return
        count = len(snapshot.pending)
        title = (
            "1 promotion was interrupted and never finished"
            if count == 1
            else f"{count} promotions were interrupted and never finished"
        )
        items = [
            f"<li><a href='seq:{e.seq}'>entry {e.seq}</a>: {html.escape(pending_text(e))}</li>"
            for e in snapshot.pending
        ]
        self.icon.setPixmap(self._icons.status("not-verified").pixmap(24, 24))
        self.text.setText(f"<b>Warning: {title}</b><ul>{''.join(items)}</ul>")
        self.setAccessibleDescription(
            f"Warning: {title}. "
            + " ".join(f"entry {e.seq}: {pending_text(e)}." for e in snapshot.pending)
        )
        self.show()

    def _link(self, target: str) -> None:
        if target.startswith("seq:"):
            emit(self.entry_clicked, int(target[4:]))
