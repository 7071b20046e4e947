// Package report renders btfsize reports as text tables, member layouts,
// Markdown, GitHub workflow commands and JSON. It formats what package
// btfsize computed and computes nothing itself.
package report
