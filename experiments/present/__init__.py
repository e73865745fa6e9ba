"""Presentation: text (every number, percent and interval format, `text`) and figures (one style,
`figures`). They draw tables and frames and know no study."""
