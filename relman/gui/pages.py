"""The pages that are not built yet, each saying concretely what will come there."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


@dataclass(frozen=True, slots=True)
class PlannedPage:
    name: str
    summary: str
    details: str


PLANNED_PAGES = (
    PlannedPage(
        "Builds",
        "Every build of every application: identity, commit, branch, furthest environment and "
        "findings.",
        "Arrives with the registry layer (Artifactory, Nexus and the embedded local registry). "
        'Two builds of one commit with different bytes will carry a red "rebuilt" badge.',
    ),
    PlannedPage(
        "Lineage",
        "Commit → builds → artifacts → environments, drawn left to right, with every promotion "
        "as an edge labelled with who and when.",
        "Arrives with the lineage engine. Findings (rebuilt, overwritten, untraceable, unsigned, "
        "skipped-stage, unverified-promotion) appear as badges on the node they concern; zoom, "
        "pan and export as PNG or SVG.",
    ),
    PlannedPage(
        "Environments",
        "Applications × environments (dev → qa → staging → prod): which build sits where, its age, "
        "commit and whether it may be promoted to the next stage.",
        "Arrives with registry profiles. A card that may not move on says why in one line; "
        "selecting two environments shows the builds that differ and the commits between them.",
    ),
    PlannedPage(
        "Settings",
        "Registry profiles (Artifactory, Nexus or a local folder), their environments in order, "
        "and the promotion policy of each environment.",
        "Arrives with the registry layer. Registry tokens will stay in the OS keyring, like the "
        "signing keys on the Keys & Trust page; nothing secret is written to disk.",
    ),
)


class PlaceholderPage(QWidget):
    """A page that states what it will show and what it waits for."""

    def __init__(self, page: PlannedPage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page = page
        self.setAccessibleName(f"{page.name} page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.addStretch(1)
        title = QLabel(page.name)
        title.setObjectName("placeholderTitle")
        title.setAccessibleName(f"{page.name} title")
        layout.addWidget(title)
        self.summary = QLabel(page.summary)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(f"{page.name} summary")
        layout.addWidget(self.summary)
        details = QLabel(page.details)
        details.setWordWrap(True)
        details.setProperty("role", "hint")
        details.setAccessibleName(f"{page.name} details")
        layout.addWidget(details)
        for label in (title, self.summary, details):
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            label.setMaximumWidth(720)
        layout.addStretch(2)

    def text(self) -> str:
        return f"{self.page.summary} {self.page.details}"
