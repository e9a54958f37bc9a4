// Package clientaddr reduces a client's network address to what records
// may keep: the /24 of an IPv4 address or the /48 of an IPv6 one — enough to
// see where requests came from, not who sent them.
package clientaddr

import "net"

// Truncate returns remote ("host:port" or a bare IP) reduced to its
// network, e.g. "192.0.2.0/24", or "" when it is not an IP address.
func Truncate(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return ""
	}
	if v4 := ip.To4(); v4 != nil {
		return net.IP(v4.Mask(net.CIDRMask(24, 32))).String() + "/24"
	}
	return ip.Mask(net.CIDRMask(48, 128)).String() + "/48"
}
