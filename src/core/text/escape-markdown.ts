/**
 * Escapes plain words for GitHub Markdown, inline or in a table cell: every character that could start emphasis, code,
 * a link, an image, raw HTML, an entity, strikethrough, math or a table cell is backslash-escaped (CommonMark lets any
 * ASCII punctuation be), and line breaks become spaces so one value stays on its line.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[\\`*_[\]<>|~&$!#]/g, '\\$&');
}
