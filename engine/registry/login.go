package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Login checks auth's credentials against its registry (ServerAddress;
// Docker Hub when empty), the way `docker login` asks an engine to: the
// registry's token flow (Docker Hub's) or basic auth, then /v2/ with what
// it gave. A refusal is engine.ErrUnauthorized in the registry's words.
func (r *Registry) Login(ctx context.Context, auth *engine.AuthConfig) error {
	a := authenticator(auth)
	if a == nil {
		return fmt.Errorf("log in needs a user name and a password (or token): %w", engine.ErrInvalidArgument)
	}
	host := loginHost(auth.ServerAddress)
	var opts []name.Option
	if r.opts.insecure[host] {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("registry %q: %v: %w", auth.ServerAddress, err, engine.ErrInvalidArgument)
	}
	refused := func(err error) error {
		var terr *transport.Error
		if c := classify(err); errors.Is(c, engine.ErrUnauthorized) && errors.As(err, &terr) {
			return &kindError{engine.ErrUnauthorized, fmt.Sprintf("%s refused the user name and password: %s", host, registryMessage(terr)), err}
		} else {
			return c
		}
	}
	// With no scope the token is for the account alone, as docker login's.
	t, err := transport.NewWithContext(ctx, reg, a, r.opts.transport, nil)
	if err != nil {
		return refused(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", r.opts.userAgent)
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return classify(err)
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return refused(err)
	}
	return nil
}

// loginHost is the registry host of a docker login server address:
// "https://index.docker.io/v1/" (the CLI's name for Docker Hub), a URL, or
// host[:port].
func loginHost(server string) string {
	if server == "" {
		return name.DefaultRegistry
	}
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		server = u.Host
	}
	server, _, _ = strings.Cut(server, "/")
	if server == "docker.io" || server == "registry-1.docker.io" {
		return name.DefaultRegistry
	}
	return server
}
