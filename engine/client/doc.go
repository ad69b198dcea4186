// Package client implements Berth's engine roles over the Docker Engine
// API, so the app drives berthd, a Docker Engine or Podman's compatible
// socket alike. It converts wire types to Berth's engine types here, once.
package client
