FROM ubuntu:24.04 AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends \
        cmake=3.28.3-1build7 \
        g++=4:13.2.0-7ubuntu1 \
        make=4.3-4.1build2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt .
COPY src/ src/
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j

FROM ubuntu:24.04
COPY --from=build /src/build/app /usr/local/bin/app
RUN useradd -r -s /usr/sbin/nologin app
USER app
CMD ["app"]
