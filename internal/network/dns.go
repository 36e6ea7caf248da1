package network

import (
	"bufio"
	"log/slog"
	gonet "net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dnsServer answers on a user-defined network's gateway address: container names, aliases and
// short IDs on that network resolve to their addresses; everything else is forwarded to the
// host's resolvers. It runs in the host's namespace (like podman's aardvark-dns, not docker's
// per-container 127.0.0.11), so a loopback upstream such as systemd-resolved works and the
// container never sees one.
type dnsServer struct {
	udp, tcp *dns.Server
}

// lookupFunc returns the addresses of a name on one network, or nil.
type lookupFunc func(name string) []netip.Addr

func startDNS(addr netip.Addr, lookup lookupFunc, log *slog.Logger) (*dnsServer, error) {
	h := &dnsHandler{lookup: lookup, log: log, client: &dns.Client{Timeout: 4 * time.Second}}
	listen := gonet.JoinHostPort(addr.String(), "53")
	pc, err := gonet.ListenPacket("udp4", listen)
	if err != nil {
		return nil, err
	}
	l, err := gonet.Listen("tcp4", listen)
	if err != nil {
		pc.Close()
		return nil, err
	}
	d := &dnsServer{udp: &dns.Server{PacketConn: pc, Handler: h}, tcp: &dns.Server{Listener: l, Handler: h}}
	go d.udp.ActivateAndServe()
	go d.tcp.ActivateAndServe()
	return d, nil
}

func (d *dnsServer) close() {
	d.udp.Shutdown()
	d.tcp.Shutdown()
}

type dnsHandler struct {
	lookup lookupFunc
	log    *slog.Logger
	client *dns.Client
}

func (h *dnsHandler) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	if len(q.Question) != 1 {
		h.reply(w, q, dns.RcodeFormatError)
		return
	}
	question := q.Question[0]
	name := strings.TrimSuffix(strings.ToLower(question.Name), ".")
	if addrs := h.lookup(name); question.Qclass == dns.ClassINET && addrs != nil {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative, m.RecursionAvailable = true, true
		if question.Qtype == dns.TypeA || question.Qtype == dns.TypeANY {
			for _, a := range addrs {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 600},
					A:   a.AsSlice(),
				})
			}
		}
		w.WriteMsg(m) // AAAA and others: an empty answer, as docker's resolver gives
		return
	}
	h.forward(w, q)
}

// forward relays the query to the host's resolvers in order, answering SERVFAIL when none
// answers.
func (h *dnsHandler) forward(w dns.ResponseWriter, q *dns.Msg) {
	network := "udp"
	if _, ok := w.RemoteAddr().(*gonet.TCPAddr); ok {
		network = "tcp"
	}
	c := *h.client
	c.Net = network
	for _, up := range upstreams() {
		resp, _, err := c.Exchange(q, gonet.JoinHostPort(up, "53"))
		if err == nil && resp != nil {
			resp.Id = q.Id
			w.WriteMsg(resp)
			return
		}
	}
	h.reply(w, q, dns.RcodeServerFailure)
}

func (h *dnsHandler) reply(w dns.ResponseWriter, q *dns.Msg, rcode int) {
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	w.WriteMsg(m)
}

// upstreams reads the host's nameservers, following systemd-resolved to its real upstreams
// when /etc/resolv.conf points at its stub.
func upstreams() []string {
	servers := nameservers("/etc/resolv.conf")
	if len(servers) == 1 && servers[0] == "127.0.0.53" {
		if real := nameservers("/run/systemd/resolve/resolv.conf"); len(real) > 0 {
			return real
		}
	}
	return servers
}

// nameservers lists the nameserver lines of a resolv.conf.
func nameservers(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			out = append(out, fields[1])
		}
	}
	return out
}

// ContainerNameservers is what a container on the default bridge gets: the host's resolvers
// minus loopback ones (meaningless in its namespace), or docker's public fallback.
func ContainerNameservers() []string {
	var out []string
	for _, s := range upstreams() {
		if a, err := netip.ParseAddr(s); err == nil && !a.IsLoopback() {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = []string{"8.8.8.8", "8.8.4.4"}
	}
	return out
}
