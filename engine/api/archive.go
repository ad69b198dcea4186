package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/berth-dev/berth/engine"
)

// pathStatHeader carries a path's stat on docker cp's requests.
const pathStatHeader = "X-Docker-Container-Path-Stat"

// archiveFiles is the backend's ContainerFiles, or a 501 when it has none.
func (s *server) archiveFiles(w http.ResponseWriter, r *http.Request) (engine.ContainerFiles, string, bool) {
	if s.b.ContainerFiles == nil {
		writeError(w, http.StatusNotImplemented, fmt.Errorf("this engine cannot copy files in and out of containers: %w", engine.ErrNotSupported))
		return nil, "", false
	}
	path := r.URL.Query().Get("path")
	if path == "" {
		writeError(w, http.StatusBadRequest, errors.New("a path is needed: ?path="))
		return nil, "", false
	}
	return s.b.ContainerFiles, path, true
}

func setPathStat(w http.ResponseWriter, st engine.PathStat) {
	b, _ := json.Marshal(st)
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
}

func (s *server) archiveStat(w http.ResponseWriter, r *http.Request, id string) {
	files, path, ok := s.archiveFiles(w, r)
	if !ok {
		return
	}
	st, err := files.StatPath(r.Context(), id, path)
	if err != nil {
		w.WriteHeader(statusOf(err)) // HEAD: no body
		return
	}
	setPathStat(w, st)
	w.WriteHeader(http.StatusOK)
}

func (s *server) archiveGet(w http.ResponseWriter, r *http.Request, id string) {
	files, path, ok := s.archiveFiles(w, r)
	if !ok {
		return
	}
	st, tarball, err := files.ArchivePath(r.Context(), id, path)
	if err != nil {
		writeEngineError(w, err)
		return
	}
	defer tarball.Close()
	setPathStat(w, st)
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	// A failure mid-way can only cut the stream: the status is sent.
	io.Copy(w, tarball)
}

func (s *server) archivePut(w http.ResponseWriter, r *http.Request, id string) {
	files, path, ok := s.archiveFiles(w, r)
	if !ok {
		return
	}
	opts := engine.ExtractOptions{NoOverwriteDirNonDir: boolParam(r, "noOverwriteDirNonDir"), KeepOwners: boolParam(r, "copyUIDGID")}
	if err := files.ExtractArchive(r.Context(), id, path, r.Body, opts); err != nil {
		writeEngineError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
