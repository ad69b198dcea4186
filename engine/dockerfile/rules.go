package dockerfile

import (
	"strings"

	"github.com/berth-dev/berth/engine"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
)

// Rule is one thing the validator checks.
type Rule struct {
	ID       string
	Severity engine.Severity
	// Hadolint lists hadolint's codes for the same check ("DL3008"), so
	// "# hadolint ignore=DL3008" and a .hadolint.yaml that names them work.
	Hadolint string
	// ShippedOnly rules are about what a stage's layers hold: they matter
	// only in the stages whose layers end up in the image (the last stage
	// and those it is built FROM), not in a builder stage that is only
	// copied from.
	ShippedOnly bool
	// Summary is the one-line reason, Explanation what a learner should
	// know: why it matters and what to write instead.
	Summary, Explanation string
}

// BuildKit says whether the rule is one of BuildKit's build checks, so
// docker build reports it under the same name.
func (r Rule) BuildKit() bool { _, ok := buildkitRules[r.ID]; return ok }

// URL is the rule's documentation page, where it has one.
func (r Rule) URL() string { return buildkitRules[r.ID] }

// buildkitRules are BuildKit's checks, from its linter: their names and
// documentation pages.
var buildkitRules = func() map[string]string {
	m := map[string]string{}
	for _, r := range []struct{ name, url string }{
		{linter.RuleStageNameCasing.Name, linter.RuleStageNameCasing.URL},
		{linter.RuleFromAsCasing.Name, linter.RuleFromAsCasing.URL},
		{linter.RuleNoEmptyContinuation.Name, linter.RuleNoEmptyContinuation.URL},
		{linter.RuleConsistentInstructionCasing.Name, linter.RuleConsistentInstructionCasing.URL},
		{linter.RuleDuplicateStageName.Name, linter.RuleDuplicateStageName.URL},
		{linter.RuleReservedStageName.Name, linter.RuleReservedStageName.URL},
		{linter.RuleJSONArgsRecommended.Name, linter.RuleJSONArgsRecommended.URL},
		{linter.RuleMaintainerDeprecated.Name, linter.RuleMaintainerDeprecated.URL},
		{linter.RuleUndefinedArgInFrom.Name, linter.RuleUndefinedArgInFrom.URL},
		{linter.RuleWorkdirRelativePath.Name, linter.RuleWorkdirRelativePath.URL},
		{linter.RuleUndefinedVar.Name, linter.RuleUndefinedVar.URL},
		{linter.RuleMultipleInstructionsDisallowed.Name, linter.RuleMultipleInstructionsDisallowed.URL},
		{linter.RuleLegacyKeyValueFormat.Name, linter.RuleLegacyKeyValueFormat.URL},
		{linter.RuleRedundantTargetPlatform.Name, linter.RuleRedundantTargetPlatform.URL},
		{linter.RuleSecretsUsedInArgOrEnv.Name, linter.RuleSecretsUsedInArgOrEnv.URL},
		{linter.RuleFromPlatformFlagConstDisallowed.Name, linter.RuleFromPlatformFlagConstDisallowed.URL},
		{linter.RuleCopyIgnoredFile.Name, linter.RuleCopyIgnoredFile.URL},
		{linter.RuleInvalidDefinitionDescription.Name, linter.RuleInvalidDefinitionDescription.URL},
		{linter.RuleExposeProtoCasing.Name, linter.RuleExposeProtoCasing.URL},
		{linter.RuleExposeInvalidFormat.Name, linter.RuleExposeInvalidFormat.URL},
	} {
		m[r.name] = r.url
	}
	return m
}()

const (
	error_   = engine.SeverityError
	warning_ = engine.SeverityWarning
	info_    = engine.SeverityInfo
)

// Rules are every rule, errors first. Their IDs are BuildKit's where
// BuildKit has the check (see BuildKit), names in the same style
// otherwise; Hadolint gives hadolint's code for the same check.
var Rules = []Rule{
	// Errors: Docker refuses the file, or runs something else than written.
	{ID: "SyntaxError", Severity: error_, Summary: "The Dockerfile cannot be parsed here.",
		Explanation: "Docker reads a Dockerfile one instruction per line (a backslash at the end of a line continues it). This line does not follow the grammar, so the build would stop here."},
	{ID: "UnknownInstruction", Severity: error_, Summary: "This is not a Dockerfile instruction.",
		Explanation: "Every line starts with an instruction such as FROM, RUN, COPY, CMD. A misspelt one stops the build before any step runs. A command for a terminal (docker build, cd, pip) does not belong in a Dockerfile: run it in a terminal, or write RUN before it to run it in the image."},
	{ID: "MissingFrom", Severity: error_, Hadolint: "DL3061", Summary: "A build stage must start with FROM.",
		Explanation: "FROM picks the image to start from (or scratch for an empty one). Only ARG may come before the first FROM, to set variables FROM can use."},
	{ID: "ArgumentCount", Severity: error_, Summary: "This instruction has the wrong number of arguments.",
		Explanation: "Each instruction takes a fixed shape of arguments: COPY needs at least a source and a destination, WORKDIR exactly one path, FROM an image and optionally AS name."},
	{ID: "InvalidJSON", Severity: error_, Summary: "This looks like a JSON array but is not valid JSON, so Docker runs it through a shell as plain text.",
		Explanation: "The exec form is a JSON array of strings: double quotes around every item, commas between them, e.g. [\"python\", \"app.py\"]. Anything else is taken as one shell command line, brackets and all, which then fails when the container starts."},
	{ID: "TypographicQuotes", Severity: error_, Summary: "Curly quotes are not quotes to Docker.",
		Explanation: "Word processors and some web pages turn \" into “ and ”. Docker needs the straight double quote \" in the exec form; with curly ones the line is not JSON and runs as a broken shell command."},
	{ID: "TypographicDash", Severity: error_, Summary: "A long dash is not an option's --.",
		Explanation: "Word processors and web pages turn -- into — or –. A program sees —no-cache-dir as a word, not an option: pip tries to install a package by that name and fails. Type two plain hyphens."},
	{ID: "InlineComment", Severity: error_, Summary: "# starts a comment only at the beginning of a line.",
		Explanation: "In a Dockerfile a comment is a line that starts with #. After an instruction, # and the words behind it are arguments: EXPOSE 5000 # flask port exposes the ports \"#\", \"flask\" and \"port\", and fails. Put the comment on its own line above."},
	{ID: "UnknownFlag", Severity: error_, Summary: "This instruction has no such --flag.",
		Explanation: "Flags such as COPY --from, COPY --chown or RUN --mount have fixed names; a misspelt flag stops the build."},
	{ID: "UnknownStage", Severity: error_, Hadolint: "DL3022", Summary: "COPY --from names a stage that does not exist.",
		Explanation: "In a multi-stage build, COPY --from=NAME copies from an earlier stage named with FROM ... AS NAME (or its number, from 0). To copy from an image instead, give its full name with a tag, e.g. nginx:1.27."},
	{ID: "CopyFromOwnStage", Severity: error_, Hadolint: "DL3023", Summary: "COPY --from names the stage it is in.",
		Explanation: "A stage cannot copy from itself: it is not built yet. Copy from an earlier stage, or use the path directly (it is already in this stage's filesystem)."},
	{ID: "InvalidImageName", Severity: error_, Summary: "This is not a valid image name.",
		Explanation: "Image names are lowercase letters, digits and the separators . _ - and /, optionally a registry host first and a :tag or @digest last, e.g. python:3.12-slim or ghcr.io/me/app:1.0. Docker refuses Python:3.12 (capital P)."},
	{ID: "InvalidPort", Severity: error_, Hadolint: "DL3011", Summary: "EXPOSE takes port numbers from 1 to 65535, optionally /tcp, /udp or /sctp.",
		Explanation: "EXPOSE documents which ports the app listens on, e.g. EXPOSE 8000 or EXPOSE 53/udp. It does not publish them: docker run -p does."},
	{ID: "InvalidKeyValue", Severity: error_, Summary: "This is not a valid KEY=value pair.",
		Explanation: "ENV, ARG and LABEL take KEY=value pairs; quote values with spaces (KEY=\"two words\") and close every quote you open."},
	{ID: "EnvSelfReference", Severity: error_, Hadolint: "DL3044", Summary: "This ENV reads a variable it sets itself; it gets the old value.",
		Explanation: "All the values of one ENV instruction are expanded before any of them is set, so ENV A=1 B=$A gives B the value A had before this line (often empty). Set A in one ENV and use it in the next."},
	{ID: "UnterminatedHeredoc", Severity: error_, Summary: "A heredoc (<<NAME) is never closed.",
		Explanation: "A heredoc runs from <<NAME to a line holding only NAME. Without that line the rest of the file becomes part of it."},

	// Warnings: it builds, but bigger, slower, less safe or surprising.
	{ID: "UnterminatedContinuation", Severity: warning_, Summary: "The last line ends with a line continuation.",
		Explanation: "A backslash at the end of a line continues the instruction on the next line. Docker accepts one at the very end of the file, but a line added after it later becomes part of this instruction."},
	{ID: "DuplicateStageName", Severity: warning_, Hadolint: "DL3024", Summary: "Two stages have the same name.",
		Explanation: "Stage names should be unique: COPY --from and --target take the first stage of that name, which is rarely the one meant."},
	{ID: "ExposeInvalidFormat", Severity: warning_, Summary: "EXPOSE takes the container's port, not a host:container mapping.",
		Explanation: "EXPOSE documents the port the app listens on inside the container. Which port of the host it appears on is decided when the container runs (docker run -p 8080:5000). BuildKit ignores the host part today and will refuse it in a future release."},
	{ID: "UntaggedBaseImage", Severity: warning_, Hadolint: "DL3006", Summary: "The base image has no tag, so it means :latest and changes under you.",
		Explanation: "Without a tag Docker pulls whatever :latest is today. Pin a version (python:3.12-slim) so the same Dockerfile builds the same image next month."},
	{ID: "LatestBaseImage", Severity: warning_, Hadolint: "DL3007", Summary: "The :latest tag moves; pin a version.",
		Explanation: ":latest is whatever the publisher pushed last. A rebuild may get a different base with different behaviour. Name a version, or a digest for full reproducibility."},
	{ID: "AptGetYes", Severity: warning_, Hadolint: "DL3014", Summary: "apt-get install without -y waits for a yes that never comes.",
		Explanation: "A build has no one to answer apt-get's prompt, so it aborts. Add -y (or --yes)."},
	{ID: "UseAptGet", Severity: warning_, Hadolint: "DL3027", Summary: "apt is for people at a terminal; scripts use apt-get.",
		Explanation: "apt's output and options may change between releases and it warns that it has no stable interface for scripts. apt-get (and apt-cache) take the same commands and are stable."},
	{ID: "AptListsCleanup", Severity: warning_, Hadolint: "DL3009", ShippedOnly: true, Summary: "The apt package lists stay in the layer.",
		Explanation: "apt-get update downloads tens of MB of package lists. Remove them in the same RUN (&& rm -rf /var/lib/apt/lists/*), or keep them out of the layer with RUN --mount=type=cache,target=/var/lib/apt/lists; a later RUN cannot shrink an earlier layer."},
	{ID: "AptGetUpdateAlone", Severity: warning_, Summary: "apt-get update in its own RUN goes stale in the cache.",
		Explanation: "The layer cache keeps the RUN apt-get update result for ever, so a later changed install line uses old lists and fails to find packages. Run update and install in one RUN."},
	{ID: "AptGetUpgrade", Severity: warning_, Hadolint: "DL3005", Summary: "Upgrading all packages in a build makes it unrepeatable.",
		Explanation: "apt-get upgrade installs whatever is newest today. Use a newer base image instead, or pin the packages you need."},
	{ID: "ApkNoCache", Severity: warning_, Hadolint: "DL3019", ShippedOnly: true, Summary: "apk add keeps its package index in the layer.",
		Explanation: "apk add --no-cache fetches the index, installs, and leaves nothing behind, so the layer holds only the packages. A cache mount (RUN --mount=type=cache,target=/var/cache/apk) keeps it out of the layer too."},
	{ID: "PipNoCacheDir", Severity: warning_, Hadolint: "DL3042", ShippedOnly: true, Summary: "pip keeps its download cache in the layer.",
		Explanation: "pip install --no-cache-dir (or PIP_NO_CACHE_DIR=1, or a cache mount at /root/.cache/pip) stops pip from storing wheels the image never uses again."},
	{ID: "YumYes", Severity: warning_, Hadolint: "DL3030", Summary: "yum install without -y waits for a yes that never comes.",
		Explanation: "A build has no one to answer yum's prompt, so it aborts. Add -y."},
	{ID: "DnfYes", Severity: warning_, Hadolint: "DL3038", Summary: "dnf install without -y waits for a yes that never comes.",
		Explanation: "A build has no one to answer dnf's (or microdnf's) prompt, so it aborts. Add -y."},
	{ID: "ZypperYes", Severity: warning_, Hadolint: "DL3034", Summary: "zypper without -n waits for a yes that never comes.",
		Explanation: "zypper asks before it installs; a build cannot answer. Write zypper -n install (or --non-interactive, or install -y)."},
	{ID: "YumCleanup", Severity: warning_, Hadolint: "DL3032", ShippedOnly: true, Summary: "yum's cache stays in the layer.",
		Explanation: "yum keeps downloaded packages and metadata under /var/cache/yum. End the RUN with && yum clean all, so the layer holds only what was installed."},
	{ID: "DnfCleanup", Severity: warning_, Hadolint: "DL3040", ShippedOnly: true, Summary: "dnf's cache stays in the layer.",
		Explanation: "dnf keeps downloaded packages and metadata under /var/cache/dnf. End the RUN with && dnf clean all (microdnf clean all)."},
	{ID: "ZypperCleanup", Severity: warning_, Hadolint: "DL3036", ShippedOnly: true, Summary: "zypper's cache stays in the layer.",
		Explanation: "zypper keeps repository metadata and packages under /var/cache/zypp. End the RUN with && zypper clean (zypper cc)."},
	{ID: "CdInRun", Severity: warning_, Hadolint: "DL3003", Summary: "cd in RUN does not carry over to the next instruction.",
		Explanation: "Each RUN starts in the WORKDIR. Use WORKDIR /path to change directory for every following instruction; cd only lasts until the end of its RUN."},
	{ID: "CopyAllBeforeInstall", Severity: warning_, Summary: "Copying the whole context before installing dependencies re-installs them on every code change.",
		Explanation: "The cache reuses a step only while everything it copied is unchanged. Copy the dependency list first (COPY requirements.txt . then RUN pip install ...), then COPY . . — editing your code then reruns only the last COPY."},
	{ID: "CopyWithoutWorkdir", Severity: warning_, Hadolint: "DL3045", Summary: "COPY to a relative path with no WORKDIR set lands in the image's root.",
		Explanation: "A relative destination is relative to the WORKDIR, which is / unless the base image set one. COPY . . then scatters your files among /bin, /etc and /usr. Set WORKDIR /app first."},
	{ID: "CopyIgnoredFile", Severity: warning_, Summary: "COPY names a file that .dockerignore leaves out of the build.",
		Explanation: "Files matched by .dockerignore are not sent to the builder, so this COPY fails (or copies nothing of it). Remove the pattern from .dockerignore, or the file from the COPY."},
	{ID: "SecretsUsedInArgOrEnv", Severity: warning_, Summary: "This looks like a secret in ARG or ENV; it ends up in the image.",
		Explanation: "ENV values are stored in the image config and ARG values in its history, readable by anyone with the image. Use a build secret (RUN --mount=type=secret) or pass the value at run time."},
	{ID: "Sudo", Severity: warning_, Hadolint: "DL3004", Summary: "sudo is not needed in a build, and rarely installed.",
		Explanation: "RUN already runs as the current USER, root unless you changed it. Switch with USER root ... USER app around the commands that need root."},
	{ID: "SourceInSh", Severity: warning_, Summary: "source is a bash word; /bin/sh may not know it.",
		Explanation: "RUN runs its line with /bin/sh, which on Debian and Ubuntu is dash: it has no source command and the step fails with \"source: not found\". Write . file (a dot and a space), which every shell knows, or switch the shell with SHELL [\"/bin/bash\", \"-c\"]."},
	{ID: "ShellPipefail", Severity: warning_, Hadolint: "DL4006", Summary: "A failure early in a pipe goes unnoticed.",
		Explanation: "A shell pipe's exit status is its last command's: in curl URL | tar x a failed download still lets the step pass with a broken result. Use SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"], or start the line with set -o pipefail && where the shell has it."},
	{ID: "ShellSyntax", Severity: warning_, Summary: "The shell cannot parse this command line.",
		Explanation: "RUN passes its line to /bin/sh. An unclosed quote, a dangling && or a stray bracket makes the shell stop before running anything. A backslash at the end of a line continues the line; check what the joined line reads."},
	{ID: "UndefinedVar", Severity: warning_, Summary: "This variable has no value here.",
		Explanation: "Docker replaces $NAME in ENV, COPY, WORKDIR and the like with the value of an ARG or ENV set earlier in the stage (or the base image's). A name set nowhere becomes empty, which is usually a typo ($PAHT for $PATH)."},
	{ID: "WorkdirRelativePath", Severity: warning_, Hadolint: "DL3000", Summary: "WORKDIR with a relative path depends on the one before.",
		Explanation: "A relative WORKDIR is joined to the previous one, which may come from the base image. An absolute path (/app) says where you are."},
	{ID: "MaintainerDeprecated", Severity: warning_, Hadolint: "DL4000", Summary: "MAINTAINER is deprecated.",
		Explanation: "Use a label instead: LABEL org.opencontainers.image.authors=\"you@example.com\"."},
	{ID: "MultipleInstructionsDisallowed", Severity: warning_, Hadolint: "DL4003,DL4004,DL3012", Summary: "Only the last of several CMD, ENTRYPOINT or HEALTHCHECK in a stage counts.",
		Explanation: "These set one value in the image config; each replaces the one before. Keep the one you mean."},
	{ID: "StageNameCasing", Severity: warning_, Summary: "Stage names should be lowercase.",
		Explanation: "Stage names are matched without regard to case, and lowercase keeps them apart from instructions and image names."},
	{ID: "FromAsCasing", Severity: warning_, Summary: "The AS in FROM ... AS should match the case of FROM.",
		Explanation: "Write FROM image AS name (or from image as name), not a mix, so the file reads consistently."},
	{ID: "ConsistentInstructionCasing", Severity: warning_, Summary: "Instructions are written in a mix of cases.",
		Explanation: "Docker accepts run and RUN alike; keeping one case (usually upper) makes the file easy to scan."},
	{ID: "JSONArgsRecommended", Severity: warning_, Hadolint: "DL3025", Summary: "The shell form runs your program under /bin/sh, which does not pass on signals.",
		Explanation: "With CMD python app.py the container's main process is /bin/sh, so docker stop's SIGTERM never reaches python and the stop waits 10 s before killing it. The exec form CMD [\"python\", \"app.py\"] runs python directly."},
	{ID: "ExposeProtoCasing", Severity: warning_, Summary: "The protocol in EXPOSE should be lowercase.",
		Explanation: "Docker reads the protocol in any case today, but the documented form is lowercase: write 80/tcp or 53/udp."},
	{ID: "AddInsteadOfCopy", Severity: warning_, Hadolint: "DL3020", Summary: "ADD of a local file: COPY says what you mean.",
		Explanation: "ADD also extracts archives and downloads URLs, which surprises readers. For plain files use COPY; keep ADD for the archive it unpacks."},
	{ID: "CurlPipeShell", Severity: warning_, Summary: "Piping a download into a shell runs whatever the server sends.",
		Explanation: "curl ... | sh executes unverified code, and a network hiccup runs half a script. Download to a file, check it (a checksum), then run it."},
	{ID: "HealthcheckWithoutFail", Severity: warning_, Summary: "curl in a HEALTHCHECK without -f never fails on an HTTP error.",
		Explanation: "curl exits 0 whenever the server answers, even with 500 Internal Server Error, so the container stays \"healthy\" while the app is broken. curl -f (--fail) exits 22 on an HTTP error."},
	{ID: "LegacyKeyValueFormat", Severity: warning_, Summary: "ENV KEY value is the legacy form; use KEY=value.",
		Explanation: "The old form takes everything after the key as one value, which surprises when you add a second variable. ENV KEY=value (LABEL key=value) is unambiguous."},
	{ID: "NoEmptyContinuation", Severity: warning_, Summary: "An empty line inside a continued instruction.",
		Explanation: "Empty lines inside a backslash-continued instruction are ignored today but will become errors, and hide where the instruction ends."},
	{ID: "ReservedStageName", Severity: warning_, Summary: "This stage name is reserved.",
		Explanation: "scratch and context mean something to the builder; naming a stage so makes COPY --from and FROM ambiguous."},
	{ID: "UndefinedArgInFrom", Severity: warning_, Summary: "FROM uses a variable that has no value.",
		Explanation: "Variables in FROM come from ARG instructions before the first FROM (or --build-arg). Without a default the image name is incomplete unless every build passes the argument."},
	{ID: "FromPlatformFlagConstDisallowed", Severity: warning_, Summary: "FROM --platform with a fixed platform makes the image for one CPU only.",
		Explanation: "FROM --platform=linux/amd64 pins the stage to that platform whatever the build asks for. Use a variable such as $BUILDPLATFORM for a builder stage, or leave the flag out."},
	{ID: "InvalidDefinitionDescription", Severity: warning_, Summary: "A comment above ARG or FROM AS should start with its name.",
		Explanation: "BuildKit reads a comment right above ARG NAME or FROM ... AS name as its description when it starts with the name (# NAME what it is). Leave an empty line between them if the comment is not meant as one."},

	// Tips.
	{ID: "RedundantTargetPlatform", Severity: info_, Summary: "FROM --platform=$TARGETPLATFORM is what FROM does anyway.",
		Explanation: "A stage is built for the target platform unless told otherwise, so the flag says nothing. Leave it out."},
	{ID: "AptNoInstallRecommends", Severity: info_, Hadolint: "DL3015", ShippedOnly: true, Summary: "apt-get install pulls in recommended packages too.",
		Explanation: "--no-install-recommends installs only what you asked for and its hard dependencies, often halving the layer."},
	{ID: "ConsecutiveRun", Severity: info_, Hadolint: "DL3059", ShippedOnly: true, Summary: "Consecutive RUNs each make a layer; they could be one.",
		Explanation: "Every RUN adds a layer. Joining related commands with && makes one layer, and lets a cleanup at the end actually shrink the image."},
	{ID: "RootUser", Severity: info_, Hadolint: "DL3002", Summary: "The server in this image runs as root.",
		Explanation: "The final stage publishes a port and no USER switches away from root, so the server runs as root. Create a user (RUN adduser -D app, or useradd) and switch to it (USER app) near the end: a flaw in the server then cannot change the whole container."},
	{ID: "NpmCi", Severity: info_, Summary: "npm ci installs exactly what package-lock.json says.",
		Explanation: "npm install may update the lock file and resolve different versions than you tested; npm ci is faster and repeatable in builds."},
	{ID: "WgetAndCurl", Severity: info_, Hadolint: "DL4001", Summary: "Both wget and curl are used; one is enough.",
		Explanation: "Each tool is another package in the image. Pick one."},
	{ID: "PinAptVersions", Severity: info_, Hadolint: "DL3008", Summary: "Packages are installed without versions.",
		Explanation: "apt-get install pkg=version keeps rebuilds identical; without versions you get whatever the mirror has that day."},
	{ID: "PinPipVersions", Severity: info_, Hadolint: "DL3013", Summary: "pip packages are installed without versions.",
		Explanation: "pip install flask==3.0.3 (or a requirements file with pinned versions) keeps rebuilds identical; a bare name installs whatever is newest that day."},
	{ID: "PinNpmVersions", Severity: info_, Hadolint: "DL3016", Summary: "npm packages are installed without versions.",
		Explanation: "npm install express@4.19.2 keeps rebuilds identical; a bare name installs whatever is newest that day."},
	{ID: "PinApkVersions", Severity: info_, Hadolint: "DL3018", Summary: "apk packages are installed without versions.",
		Explanation: "apk add curl=8.9.1-r0 keeps rebuilds identical; a bare name installs whatever the mirror has that day."},
	{ID: "PinGemVersions", Severity: info_, Hadolint: "DL3028", Summary: "gems are installed without versions.",
		Explanation: "gem install rails -v 7.1.3 (or rails:7.1.3) keeps rebuilds identical."},
	{ID: "PinYumVersions", Severity: info_, Hadolint: "DL3033", Summary: "yum packages are installed without versions.",
		Explanation: "yum install nginx-1.24.0 keeps rebuilds identical; a bare name installs whatever the mirror has that day."},
	{ID: "PinDnfVersions", Severity: info_, Hadolint: "DL3041", Summary: "dnf packages are installed without versions.",
		Explanation: "dnf install nginx-1.24.0 keeps rebuilds identical; a bare name installs whatever the mirror has that day."},
	{ID: "PinZypperVersions", Severity: info_, Hadolint: "DL3037", Summary: "zypper packages are installed without versions.",
		Explanation: "zypper install nginx=1.24.0 keeps rebuilds identical; a bare name installs whatever the mirror has that day."},
}

var rulesByID = func() map[string]*Rule {
	m := make(map[string]*Rule, len(Rules))
	for i := range Rules {
		m[Rules[i].ID] = &Rules[i]
	}
	return m
}()

// rulesByHadolint maps hadolint's codes to Berth's rules.
var rulesByHadolint = func() map[string][]string {
	m := map[string][]string{}
	for _, r := range Rules {
		for code := range strings.SplitSeq(r.Hadolint, ",") {
			if code != "" {
				m[code] = append(m[code], r.ID)
			}
		}
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

// ruleIDs turns rule names and hadolint codes, as people write them in
// ignore lists, into rule IDs.
func ruleIDs(names []string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if ids, ok := rulesByHadolint[strings.ToUpper(n)]; ok {
			for _, id := range ids {
				out[id] = true
			}
			continue
		}
		if n != "" {
			out[n] = true
		}
	}
	return out
}
