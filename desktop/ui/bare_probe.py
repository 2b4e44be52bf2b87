"""The floor for the start-up benchmark: a bare Qt window, painted, then
its time and memory as JSON. Run as a script by path (``desktop.bench``
starts it in a fresh process), so no package of ours is imported."""

import json
import time

import psutil
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

app = QApplication([])
win = QMainWindow()
win.setCentralWidget(QLabel("社区一站通"))
win.resize(1280, 720)
win.show()
win.repaint()
print(json.dumps({"ready_at": time.time(), "rss_mb": psutil.Process().memory_info().rss / 2**20}))
