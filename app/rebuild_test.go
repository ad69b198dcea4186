package app

import "testing"

func TestGrewBy(t *testing.T) {
	base := []stepSize{{"FROM busybox", 1, 0}, {"COPY . /app", 2, 1 << 20}, {"RUN head -c 3000000 /dev/zero > /d", 3, 3_000_000}}
	for _, tt := range []struct {
		name string
		now  []stepSize
		want string
	}{
		{"the first build", nil, ""},
		{"under the guard", []stepSize{{"FROM busybox", 1, 0}, {"COPY . /app", 2, 5 << 20}, base[2]}, ""},
		{"a step grew", []stepSize{base[0], {"COPY . /app", 2, 30 << 20}, base[2]}, "+30.4MB: COPY . /app, line 2 (the image grew by 30.4MB since the last build)"},
		{"an edited line counts against its old self", []stepSize{base[0], base[1], {"RUN head -c 15000000 /dev/zero > /d", 3, 15_000_000}},
			"+12MB: RUN head -c 15000000 /dev/zero > /d, line 3 (the image grew by 12MB since the last build)"},
		{"a moved line keeps its instruction", []stepSize{base[0], {"RUN true", 2, 0}, {"COPY . /app", 3, 1 << 20}, {"RUN head -c 3000000 /dev/zero > /d", 4, 3_000_000}, {"RUN head -c 20000000 /dev/zero > /e", 5, 20_000_000}},
			"+20MB: RUN head -c 20000000 /dev/zero > /e, line 5 (the image grew by 20MB since the last build)"},
	} {
		last := base
		if tt.now == nil {
			last, tt.now = nil, base
		}
		if got := grewBy(last, tt.now, 10<<20); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
