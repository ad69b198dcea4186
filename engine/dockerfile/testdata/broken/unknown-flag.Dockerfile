FROM alpine:3.20
COPY --frm=build /a /b
RUN --mnt=type=cache echo
ADD --chmown=1 a b
