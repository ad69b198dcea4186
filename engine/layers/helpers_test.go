package layers

import (
	"io"
	"strconv"
)

type readCloser = io.ReadCloser

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

func fmtInt(n int) string { return strconv.Itoa(n) }
