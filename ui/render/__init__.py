"""Renderings of a typed ``Answer`` shared by every face: what to show (``view``), plain
text for a terminal (``text``), Markdown for exports (``markdown``)."""
