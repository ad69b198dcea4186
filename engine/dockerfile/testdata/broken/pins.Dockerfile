FROM node:22-slim
RUN npm install -g express && npm install left-pad@1.3.0
RUN gem install rails && gem install rake -v 13.2.1
RUN apk add --no-cache curl
RUN pip install --no-cache-dir flask -r requirements.txt
