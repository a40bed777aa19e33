package imagefetch

import "net/netip"

// internalPrefixes are address ranges an image fetch must never reach,
// beyond what netip's predicates cover, with the reason for each.
var internalPrefixes = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "in 0.0.0.0/8 (this network)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (100.64.0.0/10)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (fec0::/10)"},
}

// Prefixes of IPv6 addresses that embed an IPv4 address a gateway may
// route to: NAT64 (the last 32 bits) and 6to4 (bits 16 to 48).
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// forbidden says why the IP address s must not be connected to, or ""
// if it may be. Anything that does not parse as an address is forbidden.
func forbidden(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "not an IP address"
	}
	a = a.Unmap() // ::ffff:10.0.0.1 is 10.0.0.1
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			if why := forbidden(netip.AddrFrom4([4]byte(b[12:16])).String()); why != "" {
				return "NAT64 for an address that is " + why
			}
		case sixTo4.Contains(a):
			if why := forbidden(netip.AddrFrom4([4]byte(b[2:6])).String()); why != "" {
				return "6to4 for an address that is " + why
			}
		}
	}
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a == netip.AddrFrom4([4]byte{169, 254, 169, 254}):
		return "the cloud metadata service"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsPrivate():
		return "private (RFC 1918 or fc00::/7)"
	case a.IsMulticast(), a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, p := range internalPrefixes {
		if p.prefix.Contains(a) {
			return p.why
		}
	}
	return ""
}
