"""The first thing on screen: a small card that says Stillroom is opening, painted before
the services (the store, the router, the engines: most of a second of imports) load.

Drawn with QPainter at the screen's pixel ratio, in the theme's colours, so it is sharp at
150% and 200% and matches light or dark; `finish(window)` hides it when the window shows.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QSplashScreen

from app.gui.theme import RADIUS_L, SPACE_L, SPACE_XL, colours, font_pt

WIDTH, HEIGHT = 440, 200


def make_splash() -> QSplashScreen:
    scheme = colours()
    ratio = QGuiApplication.primaryScreen().devicePixelRatio() \
        if QGuiApplication.primaryScreen() else 1.0
    pixmap = QPixmap(int(WIDTH * ratio), int(HEIGHT * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    card = QPainterPath()
    card.addRoundedRect(QRectF(0.5, 0.5, WIDTH - 1, HEIGHT - 1), RADIUS_L, RADIUS_L)
    painter.fillPath(card, QColor(scheme.surface))
    painter.setPen(QColor(scheme.border))
    painter.drawPath(card)
    painter.fillRect(QRectF(SPACE_XL, SPACE_XL + 6, 4, 44), QColor(scheme.accent))
    title = QFont(QGuiApplication.font())
    title.setPointSizeF(font_pt("display") * 1.4)
    title.setWeight(QFont.Weight.DemiBold)
    painter.setFont(title)
    painter.setPen(QColor(scheme.text))
    painter.drawText(QRectF(SPACE_XL + SPACE_L, SPACE_XL, WIDTH, 56),
                     Qt.AlignmentFlag.AlignVCenter, "Stillroom")
    body = QFont(QGuiApplication.font())
    body.setPointSizeF(font_pt("subtitle"))
    painter.setFont(body)
    painter.setPen(QColor(scheme.muted))
    painter.drawText(QRectF(SPACE_XL, 96, WIDTH - 2 * SPACE_XL, 28),
                     Qt.AlignmentFlag.AlignVCenter, "Private AI that stays on this machine")
    body.setPointSizeF(font_pt("caption"))
    painter.setFont(body)
    painter.drawText(QRectF(SPACE_XL, HEIGHT - SPACE_XL - 20, WIDTH - 2 * SPACE_XL, 20),
                     Qt.AlignmentFlag.AlignVCenter, "Opening your conversations…")
    painter.end()
    splash = QSplashScreen(pixmap)
    splash.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    splash.setAccessibleName("Stillroom is opening")
    return splash
