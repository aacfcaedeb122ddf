package tmpl

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// itemKind is the kind of one lexed piece of a template.
type itemKind uint8

const (
	itemText    itemKind = iota
	itemExpr             // {{ expr }}, {{{ expr }}}, {{& expr }}
	itemComment          // {{! ... }}, {{!-- ... --}}
	itemOpen             // {{#name args}}
	itemClose            // {{/name}}
	itemElse             // {{else}}, {{else if args}}
)

// item is a run of text or one tag. Tags keep their tokens; the parser
// turns them into expressions because their meaning depends on the
// enclosing blocks.
type item struct {
	kind   itemKind
	pos    int    // byte offset of the text or of "{{"
	text   string // itemText: the text
	name   string // itemOpen/itemClose: block name; itemElse: "if" for else-if
	namePo int    // byte offset of name
	toks   []token
	lstrip bool // {{~
	rstrip bool // ~}}
}

type tokKind uint8

const (
	tokWord   tokKind = iota // path, number, keyword or helper name
	tokString                // quoted literal, val is unquoted
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	val  string
	pos  int
}

// lex splits src into text and tag items.
func lex(src string) ([]item, error) {
	var items []item
	addText := func(pos int, s string) {
		if s == "" {
			return
		}
		if n := len(items); n > 0 && items[n-1].kind == itemText {
			items[n-1].text += s
			return
		}
		items = append(items, item{kind: itemText, pos: pos, text: s})
	}
	pos := 0
	for pos < len(src) {
		i := strings.Index(src[pos:], "{{")
		if i < 0 {
			addText(pos, src[pos:])
			break
		}
		i += pos
		// \{{ is a literal "{{"; \\{{ is a backslash followed by a tag.
		if i > 0 && src[i-1] == '\\' {
			if i < 2 || src[i-2] != '\\' {
				addText(pos, src[pos:i-1]+"{{")
				pos = i + 2
				continue
			}
			addText(pos, src[pos:i-1])
		} else {
			addText(pos, src[pos:i])
		}
		it, next, err := lexTag(src, i)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		pos = next
	}
	return items, nil
}

// lexTag lexes the tag starting at src[start:] == "{{" and returns the
// offset just past it.
func lexTag(src string, start int) (item, int, error) {
	it := item{pos: start, kind: itemExpr}
	p := start + 2
	if p < len(src) && src[p] == '~' {
		it.lstrip = true
		p++
	}
	closing, amp := "}}", false
	if p < len(src) && src[p] == '{' {
		closing = "}}}"
		p++
	} else if p < len(src) {
		switch src[p] {
		case '!':
			return lexComment(src, start, p+1, it)
		case '#':
			it.kind = itemOpen
			p++
		case '/':
			it.kind = itemClose
			p++
		case '&':
			amp = true
			p++
		case '^':
			return it, 0, errorAt(src, start, "inverse blocks {{^...}} are not supported; use {{#unless ...}} or {{else}}")
		case '>':
			return it, 0, errorAt(src, start, "partials {{> ...}} are not supported")
		}
	}
	for {
		for p < len(src) && isSpace(src[p]) {
			p++
		}
		if p >= len(src) {
			return it, 0, errorAt(src, start, "unclosed tag: missing %q", closing)
		}
		if closing == "}}}" && strings.HasPrefix(src[p:], "}~}}") || closing == "}}" && strings.HasPrefix(src[p:], "~}}") {
			it.rstrip = true
			p += len(closing) + 1
			break
		}
		if strings.HasPrefix(src[p:], closing) {
			p += len(closing)
			break
		}
		if strings.HasPrefix(src[p:], "}}") {
			return it, 0, errorAt(src, start, "unclosed tag: missing %q", closing)
		}
		c := src[p]
		switch {
		case c == '(':
			it.toks = append(it.toks, token{kind: tokLParen, pos: p})
			p++
		case c == ')':
			it.toks = append(it.toks, token{kind: tokRParen, pos: p})
			p++
		case c == '"' || c == '\'':
			s, n, ok := lexString(src, p)
			if !ok {
				return it, 0, errorAt(src, p, "unterminated string literal")
			}
			it.toks = append(it.toks, token{kind: tokString, val: s, pos: p})
			p = n
		case c == '=':
			return it, 0, errorAt(src, p, "hash arguments (key=value) are not supported")
		case c == '|':
			return it, 0, errorAt(src, p, "block parameters (as |x|) are not supported; use this and @index")
		case c == '}' || c == '{' || c == '~':
			return it, 0, errorAt(src, p, "unexpected %q in tag", string(c))
		default:
			n, bad := lexWord(src, p)
			if bad >= 0 {
				return it, 0, errorAt(src, bad, "unclosed \"[\" in path")
			}
			it.toks = append(it.toks, token{kind: tokWord, val: src[p:n], pos: p})
			p = n
		}
	}
	switch it.kind {
	case itemOpen, itemClose:
		if len(it.toks) == 0 || it.toks[0].kind != tokWord || !isName(it.toks[0].val) {
			return it, 0, errorAt(src, start, "missing block name")
		}
		it.name, it.namePo = it.toks[0].val, it.toks[0].pos
		it.toks = it.toks[1:]
		if it.kind == itemClose && len(it.toks) > 0 {
			return it, 0, errorAt(src, it.toks[0].pos, "unexpected %s after {{/%s", describe(it.toks[0]), it.name)
		}
	case itemExpr:
		if closing == "}}" && !amp && len(it.toks) > 0 && it.toks[0].kind == tokWord && it.toks[0].val == "else" {
			it.kind = itemElse
			it.toks = it.toks[1:]
			if len(it.toks) > 0 {
				if it.toks[0].kind != tokWord || it.toks[0].val != "if" {
					return it, 0, errorAt(src, it.toks[0].pos, "only {{else}} and {{else if ...}} are supported")
				}
				it.name, it.namePo = "if", it.toks[0].pos
				it.toks = it.toks[1:]
			}
		}
	}
	return it, p, nil
}

// lexComment lexes {{! ... }} and {{!-- ... --}}; p is just past "!".
func lexComment(src string, start, p int, it item) (item, int, error) {
	it.kind = itemComment
	end := "}}"
	if strings.HasPrefix(src[p:], "--") {
		end = "--}}"
		p += 2
	}
	i := strings.Index(src[p:], end)
	if end == "--}}" {
		if j := strings.Index(src[p:], "--~}}"); j >= 0 && (i < 0 || j < i) {
			it.rstrip = true
			return it, p + j + len("--~}}"), nil
		}
	}
	if i < 0 {
		return it, 0, errorAt(src, start, "unclosed comment: missing %q", end)
	}
	if end == "}}" && i > 0 && src[p+i-1] == '~' {
		it.rstrip = true
	}
	return it, p + i + len(end), nil
}

// lexString reads a quoted literal at src[p]. Backslash escapes the next
// character; \n, \t and \r are the usual control characters.
func lexString(src string, p int) (string, int, bool) {
	q := src[p]
	var b strings.Builder
	for i := p + 1; i < len(src); i++ {
		c := src[i]
		switch {
		case c == q:
			return b.String(), i + 1, true
		case c == '\\' && i+1 < len(src):
			i++
			switch src[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(src[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

// lexWord reads a path, number or name and returns its end. A [...]
// segment may hold any character but "]"; bad is the offset of an
// unclosed "[", or -1.
func lexWord(src string, p int) (end, bad int) {
	for p < len(src) {
		c := src[p]
		switch {
		case c == '[':
			i := strings.IndexByte(src[p:], ']')
			if i < 0 {
				return 0, p
			}
			p += i + 1
			continue
		case isSpace(c), c == '(', c == ')', c == '"', c == '\'', c == '=', c == '|', c == '}', c == '{', c == '~':
			return p, -1
		}
		p++
	}
	return p, -1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func describe(t token) string {
	switch t.kind {
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokString:
		return "string literal"
	}
	return `"` + t.val + `"`
}

// trimWhitespace applies standalone-line removal and ~ whitespace control
// to the text items, in place.
//
// A block tag ({{#..}}, {{/..}}, {{else}}) or comment that is alone on its
// line removes that whole line, as in Handlebars and Mustache. Standalone
// status is decided on the original text, then all trims are applied.
func trimWhitespace(items []item) {
	type cut struct{ head, tail bool }
	cuts := make([]cut, len(items))
	for i, it := range items {
		if it.kind == itemText || it.kind == itemExpr || !standalone(items, i) {
			continue
		}
		if i > 0 {
			cuts[i-1].tail = true
		}
		if i+1 < len(items) {
			cuts[i+1].head = true
		}
	}
	for i := range items {
		it := &items[i]
		if it.kind != itemText {
			continue
		}
		if cuts[i].tail {
			it.text = it.text[:strings.LastIndexByte(it.text, '\n')+1]
		}
		if cuts[i].head {
			// Remove the rest of the line after the tag, including "\n".
			if j := strings.IndexByte(it.text, '\n'); j >= 0 {
				it.text = it.text[j+1:]
			} else {
				it.text = ""
			}
		}
	}
	for i := range items {
		it := items[i]
		if it.kind == itemText {
			continue
		}
		if it.lstrip && i > 0 && items[i-1].kind == itemText {
			items[i-1].text = strings.TrimRightFunc(items[i-1].text, unicode.IsSpace)
		}
		if it.rstrip && i+1 < len(items) && items[i+1].kind == itemText {
			items[i+1].text = strings.TrimLeftFunc(items[i+1].text, unicode.IsSpace)
		}
	}
}

// standalone reports whether tag items[i] is alone on its line.
func standalone(items []item, i int) bool {
	if i > 0 {
		prev := items[i-1]
		if prev.kind != itemText {
			return false
		}
		j := strings.LastIndexByte(prev.text, '\n')
		if j < 0 && i > 1 {
			return false // text since the previous tag holds no newline
		}
		if strings.Trim(prev.text[j+1:], " \t") != "" {
			return false
		}
	}
	if i+1 < len(items) {
		next := items[i+1]
		if next.kind != itemText {
			return false
		}
		line := next.text
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		} else if i+2 < len(items) {
			return false // another tag follows on the same line
		}
		if strings.Trim(line, " \t\r") != "" {
			return false
		}
	}
	return true
}

// position converts a byte offset in src to a 1-based line and column
// (columns count runes).
func position(src string, off int) (line, col int) {
	if off > len(src) {
		off = len(src)
	}
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[start:off])
}
