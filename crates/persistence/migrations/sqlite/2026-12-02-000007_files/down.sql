DROP TABLE product_images;
DROP TABLE attachments;
