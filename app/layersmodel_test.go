package app

import "testing"

func TestLineMatcher(t *testing.T) {
	src := `FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir \
    -r requirements.txt
ARG VERSION=1
RUN echo $VERSION > /version
COPY . .
RUN echo same
run echo same
CMD ["python3", "app.py"]
`
	match := LineMatcher(src)
	for _, tt := range []struct {
		createdBy string
		want      int
	}{
		{"COPY requirements.txt . # buildkit", 3},
		{"RUN /bin/sh -c pip install --no-cache-dir     -r requirements.txt # buildkit", 4},
		{"RUN |1 VERSION=2 /bin/sh -c echo $VERSION > /version # buildkit", 7},
		{"COPY . . # buildkit", 8},
		{"WORKDIR /app", 2},
		{"RUN /bin/sh -c echo same # buildkit", 0}, // two lines read the same
		{"/bin/sh -c #(nop) COPY file:0f1e2d in /app", 0},
		{"COPY app.py /srv/ # buildkit", 0},
		{"", 0},
	} {
		if got := match(tt.createdBy); got != tt.want {
			t.Errorf("line of %q = %d, want %d", tt.createdBy, got, tt.want)
		}
	}
}

func TestReadableStep(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh -c #(nop) ADD file:4d5e in / ":                "ADD file:4d5e in /",
		"/bin/sh -c #(nop)  CMD [\"sh\"]":                      "CMD [\"sh\"]",
		"RUN /bin/sh -c apt-get update # buildkit":             "RUN apt-get update",
		"/bin/sh -c apt-get update":                            "RUN apt-get update",
		"COPY . /app # buildkit":                               "COPY . /app",
		"RUN |1 VERSION=2 /bin/sh -c echo $VERSION # buildkit": "RUN echo $VERSION",
		"WORKDIR /app": "WORKDIR /app",
	} {
		if got := ReadableStep(in); got != want {
			t.Errorf("ReadableStep(%q) = %q, want %q", in, got, want)
		}
	}
}
