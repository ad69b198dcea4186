package dockerfile

import "github.com/berth-dev/berth/engine"

// Rule is one thing the validator checks.
type Rule struct {
	ID       string
	Severity engine.Severity
	// Summary is the one-line reason, Explanation what a learner should
	// know: why it matters and what to write instead.
	Summary, Explanation string
}

const (
	error_   = engine.SeverityError
	warning_ = engine.SeverityWarning
	info_    = engine.SeverityInfo
)

// Rules are every rule, errors first. Their IDs follow BuildKit's build
// checks where BuildKit has the rule, hadolint's intent otherwise.
var Rules = []Rule{
	// Errors: Docker refuses the file, or runs something else than written.
	{"SyntaxError", error_, "The Dockerfile cannot be parsed here.",
		"Docker reads a Dockerfile one instruction per line (a backslash at the end of a line continues it). This line does not follow the grammar, so the build would stop here."},
	{"UnknownInstruction", error_, "This is not a Dockerfile instruction.",
		"Every line starts with an instruction such as FROM, RUN, COPY, CMD. A misspelt one stops the build before any step runs."},
	{"MissingFrom", error_, "A build stage must start with FROM.",
		"FROM picks the image to start from (or scratch for an empty one). Only ARG may come before the first FROM, to set variables FROM can use."},
	{"ArgumentCount", error_, "This instruction has the wrong number of arguments.",
		"Each instruction takes a fixed shape of arguments: COPY needs at least a source and a destination, WORKDIR exactly one path, FROM an image and optionally AS name."},
	{"InvalidJSON", error_, "This looks like a JSON array but is not valid JSON, so Docker runs it through a shell as plain text.",
		"The exec form is a JSON array of strings: double quotes around every item, commas between them, e.g. [\"python\", \"app.py\"]. Anything else is taken as one shell command line, brackets and all, which then fails when the container starts."},
	{"TypographicQuotes", error_, "Curly quotes are not quotes to Docker.",
		"Word processors and some web pages turn \" into “ and ”. Docker needs the straight double quote \" in the exec form; with curly ones the line is not JSON and runs as a broken shell command."},
	{"UnknownFlag", error_, "This instruction has no such --flag.",
		"Flags such as COPY --from, COPY --chown or RUN --mount have fixed names; a misspelt flag stops the build."},
	{"UnknownStage", error_, "COPY --from names a stage that does not exist.",
		"In a multi-stage build, COPY --from=NAME copies from an earlier stage named with FROM ... AS NAME (or its number, from 0). To copy from an image instead, give its full name with a tag, e.g. nginx:1.27."},
	{"InvalidPort", error_, "EXPOSE takes port numbers from 1 to 65535, optionally /tcp, /udp or /sctp.",
		"EXPOSE documents which ports the app listens on, e.g. EXPOSE 8000 or EXPOSE 53/udp. It does not publish them: docker run -p does."},
	{"InvalidKeyValue", error_, "This is not a valid KEY=value pair.",
		"ENV, ARG and LABEL take KEY=value pairs; quote values with spaces (KEY=\"two words\") and close every quote you open."},
	{"UnterminatedHeredoc", error_, "A heredoc (<<NAME) is never closed.",
		"A heredoc runs from <<NAME to a line holding only NAME. Without that line the rest of the file becomes part of it."},
	{"UnterminatedContinuation", error_, "The last line ends with a line continuation.",
		"A backslash at the end of a line continues the instruction on the next line; at the end of the file there is no next line."},
	{"DuplicateStageName", error_, "Two stages have the same name.",
		"Stage names must be unique so COPY --from and --target know which one you mean."},

	// Warnings: it builds, but bigger, slower, less safe or surprising.
	{"UntaggedBaseImage", warning_, "The base image has no tag, so it means :latest and changes under you.",
		"Without a tag Docker pulls whatever :latest is today. Pin a version (python:3.12-slim) so the same Dockerfile builds the same image next month."},
	{"LatestBaseImage", warning_, "The :latest tag moves; pin a version.",
		":latest is whatever the publisher pushed last. A rebuild may get a different base with different behaviour. Name a version, or a digest for full reproducibility."},
	{"AptGetYes", warning_, "apt-get install without -y waits for a yes that never comes.",
		"A build has no one to answer apt-get's prompt, so it aborts. Add -y (or --yes)."},
	{"AptNoInstallRecommends", info_, "apt-get install pulls in recommended packages too.",
		"--no-install-recommends installs only what you asked for and its hard dependencies, often halving the layer."},
	{"AptListsCleanup", warning_, "The apt package lists stay in the layer.",
		"apt-get update downloads tens of MB of package lists. Remove them in the same RUN (&& rm -rf /var/lib/apt/lists/*); a later RUN cannot shrink an earlier layer."},
	{"AptGetUpdateAlone", warning_, "apt-get update in its own RUN goes stale in the cache.",
		"The layer cache keeps the RUN apt-get update result for ever, so a later changed install line uses old lists and fails to find packages. Run update and install in one RUN."},
	{"AptGetUpgrade", warning_, "Upgrading all packages in a build makes it unrepeatable.",
		"apt-get upgrade installs whatever is newest today. Use a newer base image instead, or pin the packages you need."},
	{"ApkNoCache", warning_, "apk add keeps its package index in the layer.",
		"apk add --no-cache fetches the index, installs, and leaves nothing behind, so the layer holds only the packages."},
	{"PipNoCacheDir", warning_, "pip keeps its download cache in the layer.",
		"pip install --no-cache-dir (or PIP_NO_CACHE_DIR=1) stops pip from storing wheels the image never uses again."},
	{"CdInRun", warning_, "cd in RUN does not carry over to the next instruction.",
		"Each RUN starts in the WORKDIR. Use WORKDIR /path to change directory for every following instruction; cd only lasts until the end of its RUN."},
	{"ConsecutiveRun", info_, "Consecutive RUNs each make a layer; they could be one.",
		"Every RUN adds a layer. Joining related commands with && makes one layer, and lets a cleanup at the end actually shrink the image."},
	{"CopyAllBeforeInstall", warning_, "Copying the whole context before installing dependencies re-installs them on every code change.",
		"The cache reuses a step only while everything it copied is unchanged. Copy the dependency list first (COPY requirements.txt . then RUN pip install ...), then COPY . . — editing your code then reruns only the last COPY."},
	{"SecretsUsedInArgOrEnv", warning_, "This looks like a secret in ARG or ENV; it ends up in the image.",
		"ENV values are stored in the image config and ARG values in its history, readable by anyone with the image. Use a build secret (RUN --mount=type=secret) or pass the value at run time."},
	{"Sudo", warning_, "sudo is not needed in a build, and rarely installed.",
		"RUN already runs as the current USER, root unless you changed it. Switch with USER root ... USER app around the commands that need root."},
	{"WorkdirRelativePath", warning_, "WORKDIR with a relative path depends on the one before.",
		"A relative WORKDIR is joined to the previous one, which may come from the base image. An absolute path (/app) says where you are."},
	{"MaintainerDeprecated", warning_, "MAINTAINER is deprecated.",
		"Use a label instead: LABEL org.opencontainers.image.authors=\"you@example.com\"."},
	{"MultipleInstructionsDisallowed", warning_, "Only the last of several CMD, ENTRYPOINT or HEALTHCHECK in a stage counts.",
		"These set one value in the image config; each replaces the one before. Keep the one you mean."},
	{"StageNameCasing", warning_, "Stage names should be lowercase.",
		"Stage names are matched without regard to case, and lowercase keeps them apart from instructions and image names."},
	{"FromAsCasing", warning_, "The AS in FROM ... AS should match the case of FROM.",
		"Write FROM image AS name (or from image as name), not a mix, so the file reads consistently."},
	{"ConsistentInstructionCasing", warning_, "Instructions are written in a mix of cases.",
		"Docker accepts run and RUN alike; keeping one case (usually upper) makes the file easy to scan."},
	{"JSONArgsRecommended", warning_, "The shell form runs your program under /bin/sh, which does not pass on signals.",
		"With CMD python app.py the container's main process is /bin/sh, so docker stop's SIGTERM never reaches python and the stop waits 10 s before killing it. The exec form CMD [\"python\", \"app.py\"] runs python directly."},
	{"ExposeProtoCasing", warning_, "The protocol in EXPOSE should be lowercase.",
		"Docker reads the protocol in any case today, but the documented form is lowercase: write 80/tcp or 53/udp."},
	{"AddInsteadOfCopy", warning_, "ADD of a local file: COPY says what you mean.",
		"ADD also extracts archives and downloads URLs, which surprises readers. For plain files use COPY; keep ADD for the archive it unpacks."},
	{"CurlPipeShell", warning_, "Piping a download into a shell runs whatever the server sends.",
		"curl ... | sh executes unverified code, and a network hiccup runs half a script. Download to a file, check it (a checksum), then run it."},
	{"LegacyKeyValueFormat", warning_, "ENV KEY value is the legacy form; use KEY=value.",
		"The old form takes everything after the key as one value, which surprises when you add a second variable. ENV KEY=value is unambiguous."},
	{"EmptyContinuationLine", warning_, "An empty line inside a continued instruction.",
		"Empty lines inside a backslash-continued instruction are ignored today but were errors before, and hide where the instruction ends."},
	{"ReservedStageName", warning_, "This stage name is reserved.",
		"scratch and context mean something to the builder; naming a stage so makes COPY --from and FROM ambiguous."},
	{"UndefinedArgInFrom", warning_, "FROM uses a variable that has no value.",
		"Variables in FROM come from ARG instructions before the first FROM (or --build-arg). Without a default the image name is incomplete unless every build passes the argument."},
	{"RootUser", info_, "The container runs as root.",
		"Processes in the container run as root unless a USER says otherwise. For a service, create a user (RUN adduser -D app) and switch to it (USER app) near the end."},
	{"NpmCi", info_, "npm ci installs exactly what package-lock.json says.",
		"npm install may update the lock file and resolve different versions than you tested; npm ci is faster and repeatable in builds."},
	{"WgetAndCurl", info_, "Both wget and curl are used; one is enough.",
		"Each tool is another package in the image. Pick one."},
	{"PinAptVersions", info_, "Packages are installed without versions.",
		"apt-get install pkg=version keeps rebuilds identical; without versions you get whatever the mirror has that day."},
}

var rulesByID = func() map[string]*Rule {
	m := make(map[string]*Rule, len(Rules))
	for i := range Rules {
		m[Rules[i].ID] = &Rules[i]
	}
	return m
}()

// RuleByID returns the rule with that ID.
func RuleByID(id string) (Rule, bool) {
	r, ok := rulesByID[id]
	if !ok {
		return Rule{}, false
	}
	return *r, true
}
