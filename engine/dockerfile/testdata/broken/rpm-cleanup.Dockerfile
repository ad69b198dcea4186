FROM rockylinux:9
RUN yum install -y nginx-1.20.1
RUN dnf install -y --setopt=install_weak_deps=False jq-1.6 && dnf clean all
RUN microdnf install -y tar-1.34
