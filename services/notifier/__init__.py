"""The notifier: renders notices (``notice.render_notice``) and delivers them to offices."""
