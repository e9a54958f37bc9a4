package phi

import (
	"regexp"
	"strings"
	"sync"
)

// promoPhrases are wording of marketing mail. The bare words "sale" and
// "discount" are left out because receipts say "final sale", "point of
// sale", "sales tax" and "discount applied".
var promoPhrases = []string{
	"flash sale", "big sale", "summer sale", "winter sale", "spring sale", "fall sale",
	"holiday sale", "clearance sale", "annual sale", "semi-annual sale",
	"sale ends", "sale starts", "on sale now", "biggest sale", "warehouse sale",
	"black friday", "cyber monday", "boxing day sale", "prime day",
	"discount code", "promo code",
	"coupon", "coupons", "coupon code", "voucher code", "use code", "with code",
	"limited time", "limited-time", "buy now", "shop now", "order now", "act now",
	"don't miss", "dont miss", "don't miss out", "last chance", "exclusive offer",
	"special offer", "special offers", "deal of the day", "hot deals", "deals",
	"bogo", "buy one get one", "free gift with purchase", "new arrivals",
	"just dropped", "while supplies last", "ends tonight", "ends soon", "today only",
	"this weekend only", "sitewide", "site-wide", "off everything", "off your next order",
	"off your first order", "save big", "huge savings", "lowest prices",
	"unbeatable prices", "best sellers", "bestsellers", "shop the collection",
	"treat yourself", "refer a friend", "earn double points", "subscribe and save",
}

// promoPatterns catch amounts off and savings: "20% off", "$10 off",
// "save 15%", "save up to $50".
var promoPatterns = regexp.MustCompile(
	`(?i)(\d+\s*%|[$€£]\s?\d+(\.\d+)?)\s*(off|discount)\b|\bsave\s+(up\s+to\s+)?[$€£]?\d+|` +
		`\bpercent\s+off\b`)

var promoTrie = sync.OnceValue(func() *node {
	root := &node{}
	for _, p := range promoPhrases {
		words := termWords(p)
		for i := range words {
			words[i] = strings.ToLower(words[i])
		}
		root.add(words, &entry{kind: kindTerm, rule: "promotional"})
	}
	return root
})

// LooksPromotional reports whether text reads like marketing: sales,
// discounts, coupon codes, calls to buy. Transactional templates that do
// are really marketing and need the consent that marketing needs.
func LooksPromotional(text string) bool {
	if promoPatterns.MatchString(text) {
		return true
	}

	l := &Linter{root: promoTrie()}
	_, found := l.ScanFirst(text)
	return found
}
