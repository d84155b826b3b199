DROP TABLE stock_adjustments;
DROP TABLE products;
