RUN apt-get install -y curl
CMD python app.py
EXPOSE 5000:5000
