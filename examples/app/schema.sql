-- Tables of the example application, created by the administrator at bootstrap.
CREATE TABLE IF NOT EXISTS greetings (
    id INT AUTO_INCREMENT PRIMARY KEY,
    message VARCHAR(200) NOT NULL
);
INSERT IGNORE INTO greetings (id, message) VALUES (1, 'hello from the database');
