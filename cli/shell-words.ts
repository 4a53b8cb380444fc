/** A line that cannot be split: an open quote. */
export class UnclosedQuoteError extends Error {
  constructor (quote: string) {
    super(`unclosed ${quote === '"' ? 'double' : 'single'} quote: close it, or escape it with a backslash`)
    this.name = 'UnclosedQuoteError'
  }
}

/**
 * Split a shell line into words as a POSIX shell would for simple commands: whitespace
 * separates, single quotes keep everything, double quotes keep all but `\"` and `\\`, a
 * backslash outside quotes escapes the next character. No variables, globs or pipes.
 */
export function splitWords (line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: '"' | "'" | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote === "'") {
      if (c === "'") quote = undefined
      else word += c
    } else if (quote === '"') {
      if (c === '"') quote = undefined
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i]
      else word += c
    } else if (c === "'" || c === '"') {
      quote = c
      word ??= ''
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i]
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else {
      word = (word ?? '') + c
    }
  }
  if (quote !== undefined) throw new UnclosedQuoteError(quote)
  if (word !== undefined) words.push(word)
  return words
}
