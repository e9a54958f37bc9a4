package templates

import (
	"net/url"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

// SanitizeHTML removes from html everything outside the package's HTML
// policy (see the package documentation). It is applied to every rendered
// HTML part and is safe for any input, including a template preview.
func SanitizeHTML(html string) string {
	return htmlPolicy().Sanitize(html)
}

// htmlPolicy is built once, on first use.
var htmlPolicy = sync.OnceValue(newHTMLPolicy)

var (
	httpsSource = regexp.MustCompile(`^https://`)
	dimension   = regexp.MustCompile(`^[0-9]{1,4}%?$`)
	hexColor    = regexp.MustCompile(`^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$`)
	tableAlign  = regexp.MustCompile(`(?i)^(left|center|right|justify)$`)
	langTag     = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$`)
)

func newHTMLPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()

	p.AllowElements(
		"p", "br", "hr", "div", "span", "b", "strong", "i", "em", "u", "s",
		"small", "sub", "sup", "h1", "h2", "h3", "h4", "h5", "h6",
		"ul", "ol", "li", "blockquote", "pre", "code",
		"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
	)
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).Globally()
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(langTag).Globally()
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()
	p.AllowStyles(
		"color", "background-color", "font-family", "font-size", "font-weight",
		"font-style", "text-align", "text-decoration", "line-height",
		"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
		"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
		"border", "border-collapse", "border-radius",
		"width", "height", "max-width", "vertical-align",
	).Globally()

	p.AllowAttrs("align").Matching(tableAlign).OnElements(
		"p", "div", "table", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("valign").Matching(bluemonday.CellVerticalAlign).OnElements(
		"tr", "td", "th")
	p.AllowAttrs("width", "height").Matching(dimension).OnElements(
		"table", "td", "th", "img")
	p.AllowAttrs("border", "cellpadding", "cellspacing").Matching(bluemonday.Integer).
		OnElements("table")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowAttrs("bgcolor").Matching(hexColor).OnElements("table", "tr", "td", "th")

	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src").Matching(httpsSource).OnElements("img")
	p.AllowAttrs("alt").Matching(bluemonday.Paragraph).OnElements("img")

	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.AllowURLSchemeWithCustomPolicy("https", func(u *url.URL) bool {
		return u.Hostname() != "" && u.User == nil
	})
	// Plain http only to this machine, matching what url variables accept,
	// so dev mode's portal and unsubscribe links survive in the HTML part.
	p.AllowURLSchemeWithCustomPolicy("http", func(u *url.URL) bool {
		return u.User == nil && isLoopbackHost(u.Hostname())
	})
	p.AllowURLSchemeWithCustomPolicy("mailto", func(u *url.URL) bool {
		return u.Opaque != ""
	})
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}
