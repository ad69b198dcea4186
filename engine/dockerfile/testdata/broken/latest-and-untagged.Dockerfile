FROM ubuntu
FROM node:latest AS web
FROM registry.example.com:5000/team/app
FROM python@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
USER 1
