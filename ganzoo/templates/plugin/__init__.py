"""Templates of a third-party plugin package (rendered by :func:`ganzoo.templates.render_plugin`)."""
