package runtime

import (
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers a user-defined network's containers, at the network's
// gateway (dockerd's 127.0.0.11 needs a rule in every container; an
// address the containers already route to needs none): the names of the
// network's containers (name, aliases, short ID, hostname) from the
// runtime, everything else from the host's resolvers.
type dnsServer struct {
	conn     *net.UDPConn
	lookup   func(name string, from net.IP) []net.IP
	upstream []string // host:port
	wg       sync.WaitGroup
}

// startDNS listens on addr:53 (UDP), in the namespace at nsPath when set.
func startDNS(addr net.IP, nsPath string, lookup func(name string, from net.IP) []net.IP) (*dnsServer, error) {
	d := &dnsServer{lookup: lookup, upstream: hostResolvers()}
	listen := func() (err error) {
		d.conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: addr, Port: 53})
		return err
	}
	var err error
	if nsPath != "" {
		err = inNetns(nsPath, listen)
	} else {
		err = listen()
	}
	if err != nil {
		return nil, err
	}
	d.wg.Add(1)
	go d.serve()
	return d, nil
}

func (d *dnsServer) close() {
	d.conn.Close()
	d.wg.Wait()
}

// hostResolvers are the nameservers of the engine's host, which the engine
// (in the host's network namespace, rootless too) reaches, loopback ones
// included.
func hostResolvers() []string {
	data, _ := os.ReadFile("/etc/resolv.conf")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, net.JoinHostPort(f[1], "53"))
		}
	}
	if len(out) == 0 {
		out = []string{"8.8.8.8:53"}
	}
	return out
}

func (d *dnsServer) serve() {
	defer d.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := d.conn.ReadFromUDP(buf)
		if err != nil {
			return // closed
		}
		query := append([]byte(nil), buf[:n]...)
		if answer := d.answer(query, from.IP); answer != nil {
			d.conn.WriteToUDP(answer, from)
			continue
		}
		go func() { // another name: the host's resolvers, without holding up the rest
			if answer := d.forward(query); answer != nil {
				d.conn.WriteToUDP(answer, from)
			}
		}()
	}
}

// answer is the reply to a query for a container's name, nil for any
// other query.
func (d *dnsServer) answer(query []byte, from net.IP) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil || q.Class != dnsmessage.ClassINET || (q.Type != dnsmessage.TypeA && q.Type != dnsmessage.TypeAAAA) {
		return nil
	}
	ips := d.lookup(strings.TrimSuffix(strings.ToLower(q.Name.String()), "."), from)
	if len(ips) == 0 {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	if q.Type == dnsmessage.TypeA { // AAAA: the name exists, with no IPv6 address
		for _, ip := range ips {
			var a [4]byte
			copy(a[:], ip.To4())
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 600}, dnsmessage.AResource{A: a})
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}

// forward asks the host's resolvers in turn.
func (d *dnsServer) forward(query []byte) []byte {
	for _, up := range d.upstream {
		c, err := net.DialTimeout("udp", up, 2*time.Second)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(4 * time.Second))
		buf := make([]byte, 4096)
		_, err = c.Write(query)
		var n int
		if err == nil {
			n, err = c.Read(buf)
		}
		c.Close()
		if err == nil {
			return buf[:n]
		}
	}
	return nil
}
