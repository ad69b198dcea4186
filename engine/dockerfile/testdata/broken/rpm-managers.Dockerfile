FROM rockylinux:9
RUN yum install httpd
RUN dnf install -y nginx-1.20.1 && dnf clean all
RUN microdnf install jq
FROM opensuse/leap:15.6
RUN zypper install curl
RUN zypper -n install wget=1.21 && zypper clean
